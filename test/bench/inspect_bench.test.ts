import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { planTiles } from '../../src/quality/tiling.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

test('bench inspect: times Inspector.inspect on an image of the given size and reports its tile grid', async () => {
  const { model } = await tinyInspectorModel();
  const r = spawnSync(process.execPath, [cli, 'bench', 'inspect', '--model', model, '--size', '100', '--height', '70', '--iters', '2', '--warmup', '0', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim());
  const plan = planTiles(100, 70, 32, 3); // the tiny model: 32 px tiles, at most 3 per side
  assert.deepEqual(j.image, { width: 100, height: 70, format: 'jpeg', tiles: `${plan.rows}x${plan.cols}` });
  const gif = spawnSync(process.execPath, [cli, 'bench', 'inspect', '--model', model, '--size', '100', '--height', '70', '--format', 'gif', '--iters', '1', '--warmup', '0', '--json'], { encoding: 'utf8' });
  assert.equal(gif.status, 0, gif.stderr);
  assert.equal(JSON.parse(gif.stdout.trim()).image.format, 'gif');
  assert.match(spawnSync(process.execPath, [cli, 'bench', 'inspect', '--format', 'png'], { encoding: 'utf8' }).stderr, /expected jpeg or gif for --format but received "png"/);
  assert.match(spawnSync(process.execPath, [cli, 'bench', 'gemm', '--format', 'gif'], { encoding: 'utf8' }).stderr, /--format is for inspect only/);
  assert.equal(j.name, 'inspect');
  assert.ok(j.ms > 0 && Math.abs(j.imagesPerSec - 1000 / j.ms) < 1e-9);
  const torch = spawnSync(process.execPath, [cli, 'bench', 'inspect', '--vs-torch'], { encoding: 'utf8' });
  assert.equal(torch.status, 1);
  assert.match(torch.stderr, /inspect has no PyTorch peer/);
});
