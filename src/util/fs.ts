/**
 * File-system helpers shared across attnvision.
 *
 * `writeFileAtomic` writes to `<file>.tmp-<pid>` and renames it over the target, so a reader (or a
 * resumed run after a crash) sees either the old file or the complete new one, never a torn write.
 * rename(2) is atomic within one file system; the temporary file lives beside the target for that
 * reason.
 */
import { promises as fs, constants as fsConstants, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ArgumentError, AttnvisionError } from './errors.js';

/** Suffix of in-progress temporary files; `removeStaleTemps` deletes leftovers of crashed runs. */
export const TEMP_MARKER = '.tmp-';

/**
 * Creates `dir` and its missing parents, as `mkdir -p`, one level at a time. Node's own
 * `mkdir(dir, { recursive: true })` spins forever where the parent exists but refuses new entries
 * with ENOENT (e.g. under /proc); here that is an ENOENT error. Errors keep their errno `code`.
 */
export async function makeDirs(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  const exists = async (e: unknown) => {
    const st = await fs.stat(abs).catch(() => null);
    if (!st?.isDirectory()) throw e;
  };
  try {
    await fs.mkdir(abs);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return exists(e);
    if (code !== 'ENOENT' || path.dirname(abs) === abs) throw e;
  }
  // A missing level (or one another writer is creating right now): make the parent, then retry
  // once. Where the parent exists and still refuses (/proc), the retry's ENOENT is final.
  await makeDirs(path.dirname(abs));
  await fs.mkdir(abs).catch((e: unknown) => ((e as NodeJS.ErrnoException).code === 'EEXIST' ? exists(e) : Promise.reject(e)));
}

/** Whether `file` exists and is a regular file (not a folder, pipe or device). */
export async function isRegularFile(file: string): Promise<boolean> {
  return fs.stat(file).then((st) => st.isFile(), () => false);
}

/** Temporary files this process is writing now (removed by `removeTempsInFlight` on a signal). */
const tempsInFlight = new Set<string>();

/** Registers a temporary file of the caller's (removed on SIGINT/SIGTERM); returns its release. */
export function trackTemp(file: string): () => void {
  tempsInFlight.add(file);
  return () => tempsInFlight.delete(file);
}

/** Folders where this process's worker threads write (their temporary files are this process's too). */
const tempDirsInFlight = new Set<string>();

/**
 * Registers a folder that worker threads of this process write into with `writeFileAtomic` (their
 * temporary files carry this process's pid, but the main thread does not see them): on SIGINT or
 * SIGTERM its `*.tmp-<pid>` files are removed. Returns the release.
 */
export function trackTempDir(dir: string): () => void {
  tempDirsInFlight.add(dir);
  return () => tempDirsInFlight.delete(dir);
}

/**
 * Removes the temporary files of writes still in progress (synchronously: for a SIGINT/SIGTERM
 * handler that exits next), so an interrupted command leaves no `.tmp-<pid>` file behind: the
 * tracked files, and this process's temporary files under the tracked folders.
 */
export function removeTempsInFlight(): void {
  const mine = `${TEMP_MARKER}${process.pid}`;
  for (const dir of tempDirsInFlight) {
    try {
      for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) if (name.endsWith(mine)) tempsInFlight.add(path.join(dir, name));
    } catch {
      // best effort: the process is exiting
    }
  }
  tempDirsInFlight.clear();
  for (const t of tempsInFlight) {
    try {
      rmSync(t, { force: true });
    } catch {
      // best effort: the process is exiting
    }
  }
  tempsInFlight.clear();
}

/**
 * Writes `data` to `file` atomically (temp file + rename). Creates the parent folder if needed.
 * Failures throw an AttnvisionError naming `file` and the reason (e.g. EISDIR: it is a folder).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}${TEMP_MARKER}${process.pid}`;
  const fail = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AttnvisionError(`${file}: cannot write (${code === 'EISDIR' ? 'it is a folder' : code === 'EEXIST' || code === 'ENOTDIR' ? 'a parent path is a file' : (code ?? (e as Error).message)})`);
  };
  const st = await fs.stat(file).catch(() => null);
  if (st?.isDirectory()) fail(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
  await makeDirs(path.dirname(file)).catch(fail);
  const untrack = trackTemp(tmp);
  try {
    // fsync before rename: after a crash the new name never points at unwritten blocks.
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    fail(e);
  } finally {
    untrack();
  }
}

/**
 * Refuses, before any work, an output file that cannot be written: a folder at its path, or a parent
 * folder that cannot be created or written. Nothing is created: the nearest existing ancestor folder
 * is tried with a probe file (removed again); missing folders are made when the file is written.
 * `what` starts the message (e.g. "inspect: --report out.csv").
 */
export async function checkWritableFile(file: string, what: string): Promise<void> {
  const st = await fs.stat(file).catch(() => null);
  if (st?.isDirectory()) throw new ArgumentError(`${what} is a folder; give a file name`);
  let dir = path.dirname(path.resolve(file));
  let found = await fs.stat(dir).catch(() => null);
  while (!found && path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
    found = await fs.stat(dir).catch(() => null);
  }
  try {
    if (found && !found.isDirectory()) throw Object.assign(new Error('a parent path is a file'), { code: 'ENOTDIR' });
    await fs.access(dir, fsConstants.W_OK);
    // A real file, not only the permission bits: root passes access() on /proc and read-only mounts.
    const probe = path.join(dir, `.attnvision-probe-${randomBytes(4).toString('hex')}${TEMP_MARKER}${process.pid}`);
    await (await fs.open(probe, 'wx')).close();
    await fs.rm(probe, { force: true });
  } catch (e) {
    throw new ArgumentError(`${what}: cannot write to ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Deletes `*.tmp-<pid>` files left under `dir` (recursively) by interrupted writers; returns how many. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let removed = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removed += await removeStaleTemps(p);
    else if (/\.tmp-\d+$/.test(e.name)) {
      await fs.rm(p, { force: true });
      removed++;
    }
  }
  return removed;
}
