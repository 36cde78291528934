/**
 * Expands command-line inputs: files, folders (recursively, image files only) and glob patterns
 * (`*`, `?`, `**`), in a stable sorted order without duplicates. Missing paths are returned as
 * such so the caller can report them per file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
        if (pattern[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

export interface ExpandedInput {
  file: string;
  /** Set when the argument matched nothing. */
  missing?: boolean;
}

/** Expands args; folders contribute files with one of `extensions` (lower-case, with dot). */
export async function expandInputs(args: readonly string[], extensions: readonly string[]): Promise<ExpandedInput[]> {
  const out: ExpandedInput[] = [];
  const seen = new Set<string>();
  const push = (f: string, missing = false) => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(missing ? { file: f, missing } : { file: f });
    }
  };
  for (const arg of args) {
    if (/[*?]/.test(arg)) {
      const firstWild = arg.search(/[*?]/);
      const base = arg.slice(0, firstWild).replace(/[^/]*$/, '') || '.';
      const files: string[] = [];
      await walk(base, files);
      const re = globToRegExp(path.normalize(arg));
      const matched = files.filter((f) => re.test(path.normalize(f)));
      if (!matched.length) push(arg, true);
      matched.forEach((f) => push(f));
      continue;
    }
    const st = await fs.stat(arg).catch(() => null);
    if (!st) push(arg, true);
    else if (st.isDirectory()) {
      const files: string[] = [];
      await walk(arg, files);
      files.filter((f) => extensions.includes(path.extname(f).toLowerCase())).forEach((f) => push(f));
    } else push(arg);
  }
  return out;
}
