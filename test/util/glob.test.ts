import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandInputs } from '../../src/util/glob.js';

test('expandInputs: links followed once, and every input that gives nothing says why', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-glob-'));
  const photos = path.join(root, 'photos');
  await mkdir(path.join(photos, 'sub'), { recursive: true });
  await mkdir(path.join(root, 'empty'));
  await writeFile(path.join(photos, 'b.jpg'), 'x');
  await writeFile(path.join(photos, 'notes.txt'), 'x');
  await writeFile(path.join(photos, 'sub', 'a.png'), 'x');
  await symlink(path.join(photos, 'b.jpg'), path.join(photos, 'sub', 'link.jpg'));
  await symlink(photos, path.join(photos, 'sub', 'loop')); // a folder link back up: walked once
  await symlink(path.join(root, 'gone.jpg'), path.join(photos, 'dangling.jpg'));
  const fifo = path.join(root, 'pipe.jpg');
  const haveFifo = spawnSync('mkfifo', [fifo]).status === 0;

  const got = await expandInputs([photos, path.join(root, 'empty'), path.join(root, 'nope.jpg'), path.join(root, '*.gif'), ...(haveFifo ? [fifo] : [])], ['.jpg', '.png']);
  const rel = got.map((g) => [path.relative(root, g.file), g.reason ?? '']);
  assert.deepEqual(rel, [
    ['photos/b.jpg', ''],
    ['photos/sub/a.png', ''],
    ['photos/sub/link.jpg', ''],
    ['empty', 'no images in this folder (looked for .jpg, .png)'],
    ['nope.jpg', 'no such file or folder'],
    ['*.gif', 'no file matches this pattern'],
    ...(haveFifo ? [['pipe.jpg', 'not a regular file (a pipe, socket or device)']] : []),
  ]);
  assert.ok(got.filter((g) => g.reason).every((g) => g.missing));
  // Globs follow the same walk.
  assert.deepEqual((await expandInputs([path.join(photos, '**', '*.jpg')], [])).map((g) => path.relative(root, g.file)), ['photos/b.jpg', 'photos/sub/link.jpg']);
});
