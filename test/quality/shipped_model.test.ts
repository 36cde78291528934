import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Inspector, shippedModelDir } from '../../src/quality/inspector.js';
import { QUALITY_LABELS, type InspectorConfig } from '../../src/quality/labels.js';
import { writeDemoImages } from '../../src/quality/demo.js';

test('the shipped inspector: a consistent config, under 25 MB, and the README demo images each get their own label', async () => {
  const dir = shippedModelDir();
  const config = JSON.parse(await readFile(path.join(dir, 'inspector.json'), 'utf8')) as InspectorConfig;
  assert.deepEqual(config.labels, [...QUALITY_LABELS]);
  assert.equal(config.labelThresholds?.length ?? QUALITY_LABELS.length, QUALITY_LABELS.length);
  assert.ok((await stat(path.join(dir, 'inspector.onnx'))).size <= 25e6, 'model file within the 25 MB budget');
  const inspector = await Inspector.load();
  try {
    for (const file of await writeDemoImages()) {
      const want = path.basename(file, '.png');
      const r = await inspector.inspect(file);
      const got = r.clean ? ['clean'] : r.labels.map((l) => l.label);
      assert.deepEqual(got, [want], `${want}.png: ${JSON.stringify(r.scores)}`);
      assert.equal(r.scores.length, QUALITY_LABELS.length);
    }
  } finally {
    await inspector.dispose();
  }
});
