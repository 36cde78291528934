/**
 * Expands command-line inputs: files, folders (recursively, image files only) and glob patterns
 * (`*`, `?`, `**`), in a stable sorted order without duplicates. Symbolic links are followed (a
 * folder reached twice, as through a link loop, is walked once). Paths that match nothing, folders
 * without images, unreadable folders and inputs that are not regular files (pipes, devices) are
 * returned with a reason so the caller can report them per input.
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

interface WalkState {
  /** Real paths of the folders walked so far (link loops and repeats). */
  visited: Set<string>;
  /** Folders that could not be read, with the reason. */
  unreadable: ExpandedInput[];
}

async function walk(dir: string, out: string[], st: WalkState): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    const real = await fs.realpath(dir);
    if (st.visited.has(real)) return;
    st.visited.add(real);
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    st.unreadable.push({ file: dir, missing: true, reason: `cannot read folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    // A link counts as what it points at; a dangling link is skipped like any non-file.
    const target = e.isSymbolicLink() ? await fs.stat(p).catch(() => null) : e;
    if (target?.isDirectory()) await walk(p, out, st);
    else if (target?.isFile()) out.push(p);
  }
}

export interface ExpandedInput {
  file: string;
  /** Set when the argument gives nothing to inspect (see `reason`). */
  missing?: boolean;
  /** Why, when `missing`. */
  reason?: string;
}

/** Expands args; folders contribute files with one of `extensions` (lower-case, with dot). */
export async function expandInputs(args: readonly string[], extensions: readonly string[]): Promise<ExpandedInput[]> {
  const out: ExpandedInput[] = [];
  const seen = new Set<string>();
  const push = (f: string, reason?: string) => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(reason ? { file: f, missing: true, reason } : { file: f });
    }
  };
  // A folder named on the command line reports its unreadable sub-folders; a glob's walk (which
  // may cover much more than it matches) does not.
  const walkAll = async (dir: string, reportUnreadable: boolean) => {
    const files: string[] = [];
    const st: WalkState = { visited: new Set(), unreadable: [] };
    await walk(dir, files, st);
    if (reportUnreadable) st.unreadable.forEach((u) => push(u.file, u.reason));
    return files;
  };
  for (const arg of args) {
    if (/[*?]/.test(arg)) {
      const firstWild = arg.search(/[*?]/);
      const base = arg.slice(0, firstWild).replace(/[^/]*$/, '') || '.';
      const re = globToRegExp(path.normalize(arg));
      const matched = (await walkAll(base, false)).filter((f) => re.test(path.normalize(f)));
      if (!matched.length) push(arg, 'no file matches this pattern');
      matched.forEach((f) => push(f));
      continue;
    }
    const st = await fs.stat(arg).catch(() => null);
    if (!st) push(arg, 'no such file or folder');
    else if (st.isDirectory()) {
      const images = (await walkAll(arg, true)).filter((f) => extensions.includes(path.extname(f).toLowerCase()));
      if (!images.length) push(arg, `no images in this folder (looked for ${extensions.join(', ')})`);
      images.forEach((f) => push(f));
    } else if (!st.isFile()) push(arg, 'not a regular file (a pipe, socket or device)');
    else push(arg);
  }
  return out;
}
