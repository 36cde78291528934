import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonlError, parseJsonl, readJsonl, readJsonlLines } from '../../src/io/jsonl.js';
import { DatasetError, manifestDataset } from '../../src/data/dataset.js';

test('parseJsonl: values in order with 1-based line numbers; blank lines and CRLF endings accepted', () => {
  const rows = parseJsonl<{ a: number }>('{"a":1}\r\n\n  \n{"a":2}\n{"a":3}', 'x.jsonl');
  assert.deepEqual(rows.map((r) => r.value.a), [1, 2, 3]);
  assert.deepEqual(rows.map((r) => r.line), [1, 4, 5]);
  assert.deepEqual(parseJsonl('', 'empty.jsonl'), []);
});

test('parseJsonl: a bad line names the source and line, or is skipped with skipBadLines', () => {
  const text = '{"a":1}\n\n{"a":\n{"a":3}\n';
  assert.throws(() => parseJsonl(text, 'm.jsonl'), (e: Error) => e instanceof JsonlError && e.message.startsWith('m.jsonl:3: not valid JSON'));
  assert.deepEqual(parseJsonl<{ a: number }>(text, 'm.jsonl', { skipBadLines: true }).map((r) => [r.line, r.value.a]), [[1, 1], [4, 3]]);
  class MyError extends Error {}
  assert.throws(() => parseJsonl(text, 'm.jsonl', { error: MyError }), (e: Error) => e instanceof MyError && /m\.jsonl:3/.test(e.message));
});

test('readJsonl / readJsonlLines: read a file; a missing file is an error naming it and the cause', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'av-jsonl-'));
  const file = path.join(dir, 'log.jsonl');
  await fs.writeFile(file, '{"epoch":0}\n{"epoch":1}\n');
  assert.deepEqual(await readJsonl(file), [{ epoch: 0 }, { epoch: 1 }]);
  assert.deepEqual((await readJsonlLines(file)).map((r) => r.line), [1, 2]);
  const missing = path.join(dir, 'nope.jsonl');
  await assert.rejects(readJsonl(missing), (e: Error) => e instanceof JsonlError && e.message === `${missing}: cannot read (ENOENT)`);
});

test('manifestDataset: a bad or non-object line is a DatasetError naming the manifest line', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'av-jsonl-'));
  const file = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(file, '{"file":"a.png","labels":["noise"]}\n{"file":\n');
  await assert.rejects(manifestDataset(file, ['noise']), (e: Error) => e instanceof DatasetError && e.message.startsWith(`${file}:2: not valid JSON`));
  await fs.writeFile(file, '{"file":"a.png","labels":["noise"]}\nnull\n');
  await assert.rejects(manifestDataset(file, ['noise']), (e: Error) => e instanceof DatasetError && e.message === `${file}:2: expected {file, labels[]}`);
  await fs.writeFile(file, '{"file":"a.png","labels":["noise"]}\n');
  assert.equal((await manifestDataset(file, ['noise'])).samples.length, 1);
  // Relative paths are read from the manifest's folder; absolute ones as they are.
  await fs.writeFile(file, '{"file":"a.png","labels":["noise"]}\n{"file":"/elsewhere/b.png","labels":["noise"]}\n');
  assert.deepEqual((await manifestDataset(file, ['noise'])).samples.map((s) => s.file), [path.join(dir, 'a.png'), '/elsewhere/b.png']);
});
