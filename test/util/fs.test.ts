import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkWritableFile, makeDirs, removeTempsInFlight, trackTemp, trackTempDir } from '../../src/util/fs.js';
import { mkdir } from 'node:fs/promises';

test('makeDirs: creates missing levels, accepts an existing folder, refuses a file in the way, and never spins', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-dirs-'));
  const deep = path.join(root, 'a', 'b', 'c');
  await makeDirs(deep);
  assert.ok((await stat(deep)).isDirectory());
  await makeDirs(deep); // again: nothing to do
  await writeFile(path.join(root, 'file'), 'x');
  await assert.rejects(makeDirs(path.join(root, 'file')), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  await assert.rejects(makeDirs(path.join(root, 'file', 'sub')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  if (existsSync('/proc/self')) {
    // Node's recursive mkdir loops forever here; makeDirs answers at once.
    const t0 = Date.now();
    await assert.rejects(makeDirs('/proc/attnvision-x/y'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.ok(Date.now() - t0 < 2000);
  }
});

test('makeDirs: concurrent callers creating sibling folders under a new parent all succeed', async () => {
  for (let round = 0; round < 40; round++) {
    const base = path.join(await mkdtemp(path.join(tmpdir(), 'attnvision-race-')), 'new');
    const dirs = ['train', 'val', 'test'].flatMap((s) => ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((c) => path.join(base, s, c)));
    await Promise.all(dirs.map((d) => makeDirs(d)));
    for (const d of dirs) assert.ok((await stat(d)).isDirectory());
  }
});

test('checkWritableFile: folders, unwritable places and /proc are refused up front; the probe file is removed', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-wr-'));
  await checkWritableFile(path.join(root, 'new', 'deeper', 'out.png'), 'x: --out');
  assert.deepEqual(await readdir(root), [], 'nothing created: no folder, no probe file left behind');
  await writeFile(path.join(root, 'file'), 'x');
  await assert.rejects(checkWritableFile(path.join(root, 'file', 'sub', 'out.png'), 'x: --out'), /x: --out: cannot write to .*file \(ENOTDIR\)/);
  await assert.rejects(checkWritableFile(root, 'x: --out'), /x: --out is a folder; give a file name/);
  if (existsSync('/proc/self')) await assert.rejects(checkWritableFile('/proc/out.png', 'x: --out /proc/out.png'), /x: --out \/proc\/out\.png: cannot write to \/proc \(ENOENT\)/);
});

test('setRuntimeDefaults refuses thread counts outside [1, 256]; defaultThreads never exceeds 256', async () => {
  const { setRuntimeDefaults, defaultThreads, MAX_THREADS } = await import('../../src/runtime/session.js');
  for (const threads of [0, -1, 1.5, 300]) assert.throws(() => setRuntimeDefaults({ threads }), /setRuntimeDefaults: threads must be an integer in \[1, 256\]/);
  assert.ok(defaultThreads() >= 1 && defaultThreads() <= MAX_THREADS);
});

test('removeTempsInFlight: removes tracked files and this process\'s temporary files under tracked folders (a worker\'s), nothing else', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-temps-'));
  await mkdir(path.join(dir, 'train', 'noise'), { recursive: true });
  const mine = path.join(dir, 'train', 'noise', `00012.png.tmp-${process.pid}`);
  const other = path.join(dir, 'train', 'noise', `00013.png.tmp-${process.pid + 1}`); // another process's
  const done = path.join(dir, 'train', 'noise', '00011.png');
  const tracked = path.join(tmpdir(), `attnvision-tracked-${process.pid}.json.tmp-${process.pid}`);
  for (const f of [mine, other, done, tracked]) await writeFile(f, 'x');
  const untrackFile = trackTemp(tracked);
  const untrackDir = trackTempDir(dir);
  removeTempsInFlight();
  assert.deepEqual([mine, other, done, tracked].map((f) => existsSync(f)), [false, true, true, false]);
  untrackFile();
  untrackDir();
  // A folder whose writers have finished (released) is not swept.
  await writeFile(mine, 'x');
  trackTempDir(dir)();
  removeTempsInFlight();
  assert.ok(existsSync(mine));
});
