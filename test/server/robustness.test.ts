/**
 * The service under hostile or careless clients (session 26 audit): an overloaded service answers
 * 503 before reading the upload, a request whose client has gone is dropped before it runs, close()
 * does not hang on a stalled upload, query typos and form uploads are refused by name, "Expect:
 * 100-continue" uploads over the limit are refused before they are sent, malformed requests get a
 * JSON answer, and the pixel limit is the service's own option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Inspector } from '../../src/quality/inspector.js';
import { createInspectorServer } from '../../src/server/server.js';
import { gatedTinyInspector, tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

const photo = async (w: number, h: number) => randomPixels(w, h, new Rng(3)).png().toBuffer();

/** Sends raw bytes and resolves with everything the server answers before closing (or after `waitMs`). */
function raw(port: number, data: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    const timer = setTimeout(() => (socket.destroy(), done()), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => (clearTimeout(timer), done()));
    socket.on('error', reject);
  });
}

function post(port: number, p: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: p, headers: { 'Content-Length': body.length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('server: a full queue answers 503 before the upload; a client that left is dropped before its image runs (499); close() cuts a stalled upload', async () => {
  const { real, inspector: slow, open, started } = await gatedTinyInspector();
  const lines: string[] = [];
  const service = createInspectorServer(slow, { maxWaiting: 1, closeGraceMs: 300, log: (l) => lines.push(l) });
  const { port } = await service.listen(0);
  const img = await photo(40, 40);
  try {
    const first = post(port, '/inspect', img);
    for (let t = 0; started() < 1 && t < 300; t++) await new Promise((r) => setTimeout(r, 10));
    // The second takes the one waiting place, then its client goes away.
    const second = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/inspect?threshold=0.5', headers: { 'Content-Length': img.length } });
    second.on('error', () => undefined);
    second.end(img);
    for (let t = 0; t < 300; t++) {
      const h = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json() as Promise<{ queue: { waiting: number } }>);
      if (h.queue.waiting === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // A third request declares a body and sends none of it: refused at once, not read.
    const t0 = Date.now();
    const refused = await raw(port, 'POST /inspect HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 503 /, refused);
    assert.match(refused, /server busy \(1 being inspected, 1 waiting, 0 uploading; at most 1 may wait\)/);
    assert.ok(Date.now() - t0 < 2000, 'answered without waiting for the upload');
    // With "Expect: 100-continue" (curl, for bodies over 1 MB) the upload is not invited either.
    const expect = await raw(port, 'POST /inspect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n');
    assert.doesNotMatch(expect, /100 Continue/);
    assert.match(expect, /^HTTP\/1\.1 503 /);
    second.destroy();
    await new Promise((r) => setTimeout(r, 100));
    open();
    assert.equal((await first).status, 200);
    for (let t = 0; !lines.some((l) => / 499 /.test(l)) && t < 300; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(started(), 1, 'the image of the client that left was not inspected');
    assert.ok(lines.some((l) => /^POST \/inspect\?threshold=0\.5 499 /.test(l)), lines.join('\n'));
    // A stalled upload does not hold close() open beyond the grace period.
    const stalled = net.connect(port, '127.0.0.1', () => stalled.write('POST /inspect HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc'));
    stalled.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const c0 = Date.now();
    await service.close();
    assert.ok(Date.now() - c0 < 5000, `close() took ${Date.now() - c0} ms`);
  } finally {
    await service.close();
    await real.dispose();
  }
});

test('server: maxPerClient answers 429 to a client holding that many requests, before its upload; other clients and later requests go on', async () => {
  const { real, inspector: slow, open, started } = await gatedTinyInspector();
  const service = createInspectorServer(slow, { maxPerClient: 1 });
  const { port } = await service.listen(0);
  const img = await photo(40, 40);
  try {
    const first = post(port, '/inspect', img);
    for (let t = 0; started() < 1 && t < 300; t++) await new Promise((r) => setTimeout(r, 10));
    // The same address again, declaring a large body it never sends: refused at once, not read.
    const t0 = Date.now();
    const refused = await raw(port, 'POST /inspect HTTP/1.1\r\nHost: x\r\nX-File-Name: b.png\r\nContent-Length: 1000000\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 429 /, refused);
    assert.match(refused, /Retry-After: 1/);
    assert.match(refused, /"file":"b\.png","error":"too many requests from [^ ]+ at once \(1 in the service; at most 1 per client\)"/);
    assert.ok(Date.now() - t0 < 2000);
    // Health checks are not inspect requests.
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    open();
    assert.equal((await first).status, 200);
    // Its place is given back: the next request of the same client runs.
    assert.equal((await post(port, '/inspect', img)).status, 200);
    assert.throws(() => createInspectorServer(slow, { maxPerClient: 1.5 }), /maxPerClient/);
  } finally {
    await service.close();
    await real.dispose();
  }
});

test('server: an upload that stalls or trickles is answered 408 and gives its queue place back; a slow but steady one is read whole', async () => {
  const { model } = await tinyInspectorModel();
  const inspector = await Inspector.load({ model });
  const service = createInspectorServer(inspector, { maxWaiting: 0, uploadIdleMs: 300, uploadMinBytesPerSec: 1000 });
  const { port } = await service.listen(0);
  const queue = () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json() as Promise<{ queue: { receiving: number } }>).then((h) => h.queue);
  try {
    // The only place (queue 0) is taken by an upload that sends 3 of 1000 bytes, then nothing.
    const t0 = Date.now();
    const stalled = raw(port, 'POST /inspect HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', 5000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await queue()).receiving, 1);
    const answer = await stalled;
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    assert.match(answer, /upload stalled: no bytes for 0\.3 s \(3 bytes received of 1000\)/);
    assert.ok(Date.now() - t0 < 3000, `answered after ${Date.now() - t0} ms`);
    assert.equal((await queue()).receiving, 0, 'the place is free again');
    // An upload that is never idle but sends 10 bytes every 50 ms (200 bytes/s, under the 1000
    // asked) is refused once its first 600 ms (twice the idle limit) are over, not after the
    // request timeout.
    const t1 = Date.now();
    const trickle = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1', () => socket.write('POST /inspect HTTP/1.1\r\nHost: x\r\nX-File-Name: slow.png\r\nContent-Length: 1000\r\n\r\n'));
      const drip = setInterval(() => socket.writable && socket.write('0123456789'), 50);
      const done = () => (clearInterval(drip), clearTimeout(limit), resolve(Buffer.concat(chunks).toString('utf8')));
      const limit = setTimeout(() => (socket.destroy(), done()), 5000);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', done);
      socket.on('error', (e) => (clearInterval(drip), reject(e)));
    });
    assert.match(trickle, /^HTTP\/1\.1 408 /, trickle);
    assert.match(trickle, /"file":"slow\.png","error":"upload too slow: \d+ bytes of 1000 in 0\.\d s, under the 1000 bytes\/s asked after the first 0\.6 s"/);
    assert.ok(Date.now() - t1 < 2000, `answered after ${Date.now() - t1} ms`);
    assert.equal((await queue()).receiving, 0, 'the place is free again');
    // An upload that keeps sending (a chunk every 100 ms, 1 s in all) is never idle for 300 ms.
    const img = await photo(40, 40);
    const slow = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/inspect', headers: { 'Content-Length': img.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      const parts = 10;
      const step = Math.ceil(img.length / parts);
      let i = 0;
      const send = () => {
        const chunk = img.subarray(i * step, (i + 1) * step);
        i++;
        if (i >= parts) req.end(chunk);
        else {
          req.write(chunk);
          setTimeout(send, 100);
        }
      };
      send();
    });
    assert.equal(slow.status, 200, slow.body);
    // A rate deadline beyond setTimeout's range (8 MB at 1 byte/s: 93 days) does not fire at once.
    const patient = createInspectorServer(inspector, { uploadIdleMs: 0, uploadMinBytesPerSec: 1 });
    const { port: p2 } = await patient.listen(0);
    try {
      const big = await post(p2, '/inspect', Buffer.alloc(8_000_000, 7));
      assert.equal(big.status, 400, big.body);
      assert.match(big.body, /not an image|cannot|unsupported|unreadable/i);
    } finally {
      await patient.close();
    }
    assert.throws(() => createInspectorServer(inspector, { uploadIdleMs: -5 }), /uploadIdleMs/);
    assert.throws(() => createInspectorServer(inspector, { uploadMinBytesPerSec: 0.5 }), /uploadMinBytesPerSec/);
  } finally {
    await service.close();
    await inspector.dispose();
  }
});

test('server: unknown or repeated query parameters, form uploads, oversized 100-continue uploads, malformed requests and the pixel limit get clear answers', async () => {
  const { model } = await tinyInspectorModel();
  const inspector = await Inspector.load({ model });
  const service = createInspectorServer(inspector, { maxBytes: 10_000, maxPixels: 1000 });
  const { port } = await service.listen(0);
  try {
    const img = await photo(40, 40);
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ['/inspect?thresh=0.5', {}, 400, /unknown query parameter "thresh" \(known: threshold\)/],
      ['/inspect?threshold=0.5&threshold=2', {}, 400, /query parameter "threshold" is given more than once/],
      ['/inspect', { 'Content-Type': 'multipart/form-data; boundary=x' }, 415, /send the image bytes as the body \(curl --data-binary @photo\.jpg\), not a multipart form \(curl -F\)/],
      ['/inspect', {}, 400, /image is 40x40 = 1600 pixels, above the limit of 1000/],
    ];
    // curl --data-binary labels the raw bytes application/x-www-form-urlencoded: accepted (below the pixel limit).
    const small = await photo(32, 30);
    const curlLike = await post(port, '/inspect', small, { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(curlLike.status, 200, curlLike.body);
    for (const [p, headers, status, want] of cases) {
      const r = await post(port, p, img, headers);
      assert.equal(r.status, status, `${p} ${JSON.stringify(headers)}: ${r.body}`);
      assert.match(JSON.parse(r.body).error, want);
    }
    // An acceptable "Expect: 100-continue" upload is invited and answered.
    const invited = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/inspect', headers: { 'Content-Length': small.length, Expect: '100-continue' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, continued }));
      });
      req.on('continue', () => {
        continued = true;
        req.end(small);
      });
      req.on('error', reject);
    });
    assert.deepEqual(invited, { status: 200, continued: true });
    const cont = await raw(port, 'POST /inspect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n');
    assert.doesNotMatch(cont, /100 Continue/, 'the upload is not invited');
    assert.match(cont, /^HTTP\/1\.1 413 /);
    assert.match(cont, /request body of 100000000 bytes is over the 10000-byte limit/);
    const bad = await raw(port, 'GARBAGE\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    assert.match(bad, /\{"error":"malformed request \(HPE_/);
    const missing = await fetch(`http://127.0.0.1:${port}/${'x'.repeat(5000)}`);
    const text = ((await missing.json()) as { error: string }).error;
    assert.ok(text.length < 400, 'a long path is not echoed back whole');
    assert.match(text, /paths: GET \/, GET \/healthz, POST \/inspect, GET \/model\.json, GET \/model\.onnx/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'still serving');
  } finally {
    await service.close();
    await inspector.dispose();
  }
});
