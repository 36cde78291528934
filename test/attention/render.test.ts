import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { gridFor, mapsFromAttention, rollout } from '../../src/attention/render.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

test('attention maps: grid factoring, per-query row selection and rollout', () => {
  assert.deepEqual(gridFor(12, 0.75), [3, 4]);
  assert.deepEqual(gridFor(49, 1), [7, 7]);
  // [B=1, N=4, N=4] attention where query i attends only to key 3 - i.
  const a = new Float32Array(16);
  for (let i = 0; i < 4; i++) a[i * 4 + (3 - i)] = 1;
  const { maps, matrix } = mapsFromAttention('t', a, [1, 4, 4], 1, [0, 0]); // query 0 (top-left)
  assert.deepEqual([...maps[0]!.values], [0, 0, 0, 1]);
  assert.equal(matrix!.n, 4);
  // Rollout of one uniform layer: 0.5 * uniform + 0.5 * I.
  const u = new Float32Array(4).fill(0.5);
  const r = rollout([u], 2);
  assert.deepEqual([...r].map((v) => Math.round(v * 100) / 100), [0.75, 0.25, 0.25, 0.75]);
  // Rows of a rollout stay distributions.
  const r2 = rollout([a, u.length === 4 ? new Float32Array(16).fill(0.25) : a], 4);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(r2.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0) - 1) < 1e-6);
});

test('attnvision attention renders a PNG for an attention model', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-attn-'));
  const img = path.join(dir, 'in.png');
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a6' } }).png().toFile(img);
  const out = path.join(dir, 'attn.png');
  const r = spawnSync(process.execPath, [cli, 'attention', 'tiny_vit', img, '--size', '16', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 attention modules \(attn\)/);
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 512, 'input panel + one attention panel');
  assert.ok((await stat(out)).size > 500);
  const none = spawnSync(process.execPath, [cli, 'attention', 'tiny_cnn', img, '--size', '16', '--out', out], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no attention modules/);
});
