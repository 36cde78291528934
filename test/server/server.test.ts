import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Inspector } from '../../src/quality/inspector.js';
import { createInspectorServer } from '../../src/server/server.js';
import { BoundedQueue, QueueFullError } from '../../src/server/queue.js';
import { gatedTinyInspector, tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

async function photo(w: number, h: number, seed: number): Promise<Buffer> {
  const rng = new Rng(seed);
  return randomPixels(w, h, rng).jpeg().toBuffer();
}

/** A raw request (fetch would refuse some of the malformed ones we send). */
function request(port: number, method: string, p: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: body ? { 'Content-Length': body.length, ...headers } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('bounded queue: runs in order, at most `concurrency` at once, refuses beyond the waiting line', async () => {
  const q = new BoundedQueue(1, 2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const job = (i: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    order.push(i);
    running--;
    return i;
  };
  const runs = [0, 1, 2].map((i) => q.run(job(i)));
  await assert.rejects(q.run(job(3)), (e: unknown) => e instanceof QueueFullError && /^server busy \(1 being inspected, 2 waiting, 0 uploading; at most 2 may wait\); retry later$/.test(e.message));
  assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(peak, 1);
  assert.deepEqual(q.stats, { active: 0, waiting: 0, receiving: 0 });
  // A failing job frees its slot.
  await assert.rejects(q.run(async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await q.run(async () => 7), 7);
  assert.throws(() => new BoundedQueue(0, 1), /concurrency/);
});

test('server: page, health, inspect equals the library, clear errors, and it keeps serving', async () => {
  const { model } = await tinyInspectorModel();
  const inspector = await Inspector.load({ model });
  const lines: string[] = [];
  const service = createInspectorServer(inspector, { maxBytes: 200_000, maxWaiting: 1, log: (l) => lines.push(l) });
  const { port } = await service.listen(0);
  try {
    const page = await request(port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /text\/html/);
    assert.match(page.body, /<canvas id="view">/);
    assert.match(page.body, /"threshold":0\.5/);
    assert.doesNotMatch(page.body, /<script src=/, 'self-contained page');

    const health = JSON.parse((await request(port, 'GET', '/healthz')).body);
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.labels, inspector.config.labels);
    assert.deepEqual(health.queue, { active: 0, waiting: 0, receiving: 0 });
    assert.deepEqual(health.thresholds, inspector.config.labels.map(() => 0.5));

    const img = await photo(70, 50, 1);
    const r = await request(port, 'POST', '/inspect?threshold=0.4', img, { 'Content-Type': 'image/jpeg', 'X-File-Name': encodeURIComponent('my photo.jpg') });
    assert.equal(r.status, 200, r.body);
    const got = JSON.parse(r.body);
    const want = await inspector.inspect(img, { threshold: 0.4 });
    assert.equal(got.file, 'my photo.jpg');
    assert.deepEqual(got.thresholds, inspector.config.labels.map(() => 0.4));
    assert.deepEqual(got.scores, want.scores);
    assert.deepEqual(got.labels, want.labels);
    assert.equal(got.clean, want.clean);
    assert.deepEqual(got.tiles, want.tiles);
    assert.equal(got.tileProbabilities.length, want.tiles.rows * want.tiles.cols);

    const bad = await request(port, 'POST', '/inspect', Buffer.from('definitely not an image'), { 'X-File-Name': 'notes.txt' });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).error, /^notes\.txt: not an image \(unrecognised content, 23 bytes\)/);
    assert.equal(JSON.parse(bad.body).file, 'notes.txt');
    const truncated = await request(port, 'POST', '/inspect', img.subarray(0, 200));
    assert.equal(truncated.status, 400);
    assert.match(JSON.parse(truncated.body).error, /^upload: /);
    assert.equal(JSON.parse(truncated.body).file, 'upload');
    assert.match(JSON.parse((await request(port, 'POST', '/inspect', Buffer.alloc(0))).body).error, /empty request body/);
    const thr = await request(port, 'POST', '/inspect?threshold=2', img);
    assert.equal(thr.status, 400);
    assert.match(JSON.parse(thr.body).error, /expected a number in \(0, 1\) for threshold but received "2"/);
    for (const v of ['0x0.5', '', '1']) assert.equal((await request(port, 'POST', `/inspect?threshold=${v}`, img)).status, 400, v);
    assert.equal((await request(port, 'POST', '/inspect?threshold=0.9999999', img)).status, 200);
    const big = await request(port, 'POST', '/inspect', Buffer.alloc(300_000, 1));
    assert.equal(big.status, 413);
    assert.match(JSON.parse(big.body).error, /300000 bytes is over the 200000-byte limit/);
    const missing = await request(port, 'GET', '/nope');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error, /no such path \/nope/);
    const wrong = await request(port, 'GET', '/inspect');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');

    // After all of that, a good request still gets the same answer.
    const again = await request(port, 'POST', '/inspect?threshold=0.4', img);
    assert.equal(again.status, 200);
    assert.deepEqual(JSON.parse(again.body).scores, want.scores);

    assert.equal((await request(port, 'GET', '/healthz')).status, 200);
    assert.ok(lines.some((l) => /^POST \/inspect\?threshold=0\.4 200 \d+ms$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^POST \/inspect 413 /.test(l)));
  } finally {
    await service.close();
    await inspector.dispose();
  }
});

test('server: under overload one image runs, one waits, the rest get 503 with Retry-After', async () => {
  // The first inspection is held until every request has arrived, so the overload is certain.
  const { real, inspector: slow, open, started } = await gatedTinyInspector();
  const service = createInspectorServer(slow, { maxWaiting: 1 });
  const { port } = await service.listen(0);
  try {
    const img = await photo(60, 60, 5);
    const answered: { status: number; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const pending = Array.from({ length: 5 }, () => request(port, 'POST', '/inspect', img).then((b) => (answered.push(b), b)));
    for (let t = 0; answered.length < 3 && t < 500; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(answered.length, 3, 'requests beyond the waiting line are answered while the first is still running');
    for (const b of answered) {
      assert.equal(b.status, 503);
      assert.equal(b.headers['retry-after'], '1');
      assert.match(JSON.parse(b.body).error, /server busy \(1 being inspected, 1 waiting, 0 uploading; at most 1 may wait\); retry later/);
    }
    assert.equal(started(), 1);
    const health = JSON.parse((await request(port, 'GET', '/healthz')).body);
    assert.deepEqual(health.queue, { active: 1, waiting: 1, receiving: 0 });
    open();
    const all = await Promise.all(pending);
    const served = all.filter((b) => b.status === 200);
    assert.equal(served.length, 2);
    assert.deepEqual(JSON.parse(served[1]!.body).scores, (await real.inspect(img)).scores);
  } finally {
    await service.close();
    await real.dispose();
  }
});

test('serve command: starts, answers, and exits 0 on SIGTERM', async () => {
  const { model } = await tinyInspectorModel();
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--model', model, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`serve exited early (${c}): ${out}`)));
  });
  const r = await request(port, 'POST', '/inspect', await photo(40, 40, 3));
  assert.equal(r.status, 200);
  assert.equal(typeof JSON.parse(r.body).clean, 'boolean');
  const code = await new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
  assert.match(out, /shutting down/);
  const bad = spawn(process.execPath, [cli, 'serve', '--port', '70000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const badCode = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
  assert.equal(badCode, 1);
  assert.match(err, /expected an integer in \[0, 65535\] for --port but received "70000"/);
});

test('server: the in-browser mode files (model, config, browser modules, onnxruntime-web) and nothing else', async () => {
  const { model } = await tinyInspectorModel();
  const inspector = await Inspector.load({ model });
  const service = createInspectorServer(inspector);
  const { port } = await service.listen(0);
  try {
    const page = await request(port, 'GET', '/');
    assert.match(page.body, /"browserMode":true/, 'onnxruntime-web is installed here, so the page offers it');
    // The page's script parses (a syntax error would leave the page dead in every browser).
    const script = /<script>([\s\S]*)<\/script>/.exec(page.body)![1]!;
    assert.doesNotThrow(() => new Function(script), 'page script syntax');
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    const onnx = await request(port, 'GET', '/model.onnx');
    assert.equal(onnx.status, 200);
    assert.equal(Number(onnx.headers['content-length']), (await readFile(model)).length);
    assert.deepEqual(JSON.parse((await request(port, 'GET', '/model.json')).body), inspector.config);
    // The browser module and every module it imports at run time (relative imports resolved as
    // the browser resolves them, to any depth) are served, each with a JavaScript type.
    const entry = new URL((/import\('(\.\/lib\/[\w./-]+)'\)/.exec(page.body) ?? [])[1] ?? 'missing', 'http://page/').pathname;
    const seen = new Set<string>();
    for (const todo = [entry]; todo.length; ) {
      const url = todo.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const mod = await request(port, 'GET', url);
      assert.equal(mod.status, 200, `${url} (imported by the page's module graph)`);
      assert.match(mod.headers['content-type']!, /text\/javascript/, url);
      for (const m of mod.body.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) todo.push(new URL(m[1]!, `http://page${url}`).pathname);
    }
    assert.ok(seen.has('/lib/quality/browser.js') && seen.has('/lib/util/errors.js'), [...seen].join(', '));
    const wasm = await request(port, 'GET', '/ort/ort-wasm-simd-threaded.wasm');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.equal((await request(port, 'GET', '/ort/ort.wasm.min.mjs')).status, 200);
    // Only those files: no other module, no path outside the folders.
    for (const p of ['/lib/inspector.js', '/lib/quality/inspector.js', '/lib/browser.js', '/lib/../server/server.js', '/lib/quality/../server/server.js', '/lib/%2e%2e%2fserver.js', '/ort/ort.min.mjs', '/ort/../package.json']) {
      assert.equal((await request(port, 'GET', p)).status, 404, p);
    }
    const post = await request(port, 'POST', '/model.onnx', Buffer.from('x'));
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
  } finally {
    await service.close();
    await inspector.dispose();
  }
});
