/**
 * WorkerInspector: the service's inspector in a worker thread. Same results and error classes as
 * Inspector; the main thread's event loop stays free while an image is inspected (onnxruntime-node
 * runs a session synchronously on its calling thread); a worker that dies fails only the requests it
 * held, and the next request starts a new one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Inspector, InspectError } from '../../src/quality/inspector.js';
import { WorkerInspector } from '../../src/server/worker_inspector.js';
import { createInspectorServer } from '../../src/server/server.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

test('WorkerInspector: the same result and errors as Inspector; a dead worker fails its requests and is replaced; dispose', async () => {
  const { model, dir } = await tinyInspectorModel();
  const here = await Inspector.load({ model });
  const there = await WorkerInspector.load({ model });
  try {
    const img = await randomPixels(70, 50, new Rng(5)).png().toBuffer();
    assert.deepEqual(await there.inspect(img, { threshold: 0.4 }), await here.inspect(img, { threshold: 0.4 }));
    assert.deepEqual(there.config, here.config);
    assert.deepEqual(there.thresholds(), here.thresholds());
    assert.equal(there.modelPath, here.modelPath);
    // The caller's buffer is not transferred away.
    assert.equal(img.length > 0 && img[0], 0x89);
    const bad = await there.inspect(Buffer.from('not an image'), { name: 'notes.txt' }).catch((e: unknown) => e);
    assert.ok(bad instanceof InspectError, String(bad));
    assert.equal((bad as InspectError).file, 'notes.txt');
    assert.match((bad as Error).message, /^notes\.txt: not an image/);
    await assert.rejects(there.inspect(img, { threshold: 3 }), /threshold/);
    await assert.rejects(there.inspect('photo.jpg'), /pass the image bytes/);
    // The worker dies with a request in it: that request fails saying so, the next one works.
    const pending = there.inspect(img);
    await (there as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(pending, /inspector worker stopped \(exit code 1\); the next request starts a new one/);
    assert.deepEqual(await there.inspect(img, { threshold: 0.4 }), await here.inspect(img, { threshold: 0.4 }));
  } finally {
    await there.dispose();
    await here.dispose();
  }
  await assert.rejects(there.inspect(Buffer.from('x')), /used after dispose/);
  await assert.rejects(WorkerInspector.load({ model: path.join(dir, 'missing.onnx') }), /missing\.onnx/);
});

test('WorkerInspector: the event loop keeps turning while the shipped model inspects (it stops for the whole inference with Inspector)', async () => {
  const img = await randomPixels(1024, 768, new Rng(7)).jpeg().toBuffer();
  /** The longest pause of a 5 ms timer while `run` is in progress. */
  const longestPause = async (run: () => Promise<unknown>) => {
    let last = performance.now();
    let worst = 0;
    const iv = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    await run();
    await new Promise((r) => setTimeout(r, 20)); // let the timer see the end of a blocking call
    clearInterval(iv);
    return worst;
  };
  const here = await Inspector.load();
  const there = await WorkerInspector.load();
  try {
    await here.inspect(img);
    await there.inspect(img); // warm-up
    const blocked = await longestPause(() => here.inspect(img));
    const free = await longestPause(() => there.inspect(img));
    assert.ok(free < blocked / 2, `longest pause with the worker ${free.toFixed(0)} ms, without ${blocked.toFixed(0)} ms`);
    // Through the service: /healthz answers while an image is inspected.
    const service = createInspectorServer(there);
    const { port } = await service.listen(0);
    try {
      const inspecting = fetch(`http://127.0.0.1:${port}/inspect`, { method: 'POST', body: img });
      await new Promise((r) => setTimeout(r, 50));
      const health = fetch(`http://127.0.0.1:${port}/healthz`);
      const first = await Promise.race([inspecting.then(() => 'inspect'), health.then(() => 'health')]);
      assert.equal(first, 'health', 'the health check was answered before the inspection ended');
      assert.equal((await inspecting).status, 200);
      assert.equal((await health).status, 200);
    } finally {
      await service.close();
    }
  } finally {
    await there.dispose();
    await here.dispose();
  }
});
