import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeManifests, ManifestMergeError } from '../../src/data/synth/index.js';
import { manifestDataset } from '../../src/data/dataset.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'av-merge-'));
}

async function writeManifest(dir: string, rows: { file: string; labels: string[]; split: string }[]): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(file, rows.map((r, id) => JSON.stringify({ id, ...r, severities: {} })).join('\n') + '\n');
  return file;
}

test('mergeManifests: lines of both inputs, paths relative to the output, ids renumbered, readable as one dataset', async () => {
  const root = await tempDir();
  const a = await writeManifest(path.join(root, 'a'), [
    { file: 'val/clean/000000.png', labels: ['clean'], split: 'val' },
    { file: 'test/noise/000001.png', labels: ['noise'], split: 'test' },
  ]);
  const b = await writeManifest(path.join(root, 'deep', 'b'), [{ file: 'val/mixed/000000.png', labels: ['noise', 'rain'], split: 'val' }]);
  const out = path.join(root, 'out', 'merged.jsonl');
  assert.deepEqual(await mergeManifests(out, [a, b]), { kept: 3, dropped: 0 });
  const rows = (await fs.readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: number; file: string; labels: string[] });
  assert.deepEqual(rows.map((r) => r.id), [0, 1, 2]);
  assert.deepEqual(rows.map((r) => r.file), ['../a/val/clean/000000.png', '../a/test/noise/000001.png', '../deep/b/val/mixed/000000.png']);
  const val = await manifestDataset(out, ['noise', 'rain'], 'val');
  assert.deepEqual(val.samples.map((s) => s.file), [path.join(root, 'a/val/clean/000000.png'), path.join(root, 'deep/b/val/mixed/000000.png')]);
  assert.deepEqual((await fs.readdir(path.join(root, 'out'))).sort(), ['merged.jsonl'], 'no temp file left');
});

test('mergeManifests: the same image twice, a bad line or one input are errors naming the file and line', async () => {
  const root = await tempDir();
  const a = await writeManifest(path.join(root, 'a'), [{ file: 'x.png', labels: ['clean'], split: 'val' }]);
  const out = path.join(root, 'm.jsonl');
  await assert.rejects(mergeManifests(out, [a, a]), (e: Error) => e instanceof ManifestMergeError && e.message.includes(`${a}:1`) && e.message.includes('also named by'));
  const bad = path.join(root, 'bad.jsonl');
  await fs.writeFile(bad, '{"file":"y.png","labels":["clean"]}\n{not json\n');
  await assert.rejects(mergeManifests(out, [a, bad]), (e: Error) => e instanceof ManifestMergeError && e.message.startsWith(`${bad}:2: not valid JSON`));
  await fs.writeFile(bad, '{"labels":["clean"]}\n');
  await assert.rejects(mergeManifests(out, [a, bad]), /bad\.jsonl:1: no "file" field/);
  await assert.rejects(mergeManifests(out, [a]), /at least two manifests but received 1/);
  // With a photo split, one input is enough, but a merge that keeps no line is an error.
  const p = await writeManifest(path.join(root, 'p'), [{ file: 'y.png', labels: ['clean'], split: 'train', source: { kind: 'photo', photo: 'q.jpg' } } as never]);
  await assert.rejects(mergeManifests(out, [p], { splits: new Map([['q.jpg', 'val']]) }), /no line of .*p\/manifest\.jsonl is left to write/);
  await assert.rejects(fs.access(out), 'nothing written on error');
});
