/**
 * The inspector as an HTTP service (Node's http module, no framework):
 *
 *   GET  /          the web page (drop a photo, see labels and the tile heatmap)
 *   GET  /healthz   {status, model, labels, inputSize, thresholds, queue: {active, waiting, receiving}}
 *   GET  /model.onnx, /model.json, /lib/**.js, /ort/*  the files of the page's in-browser mode (assets.ts)
 *   POST /inspect   body: the image bytes (any format the inspector reads); ?threshold=T optional
 *                   -> 200 {file, clean, labels, scores, tiles, tileProbabilities, detail?, fine?, thresholds, model, ms}
 *                   (detail, fine: the native-scale tiles and the finer coverage of a large photo, see quality/labels.ts)
 *
 * Errors are JSON `{error}` naming what was wrong (`{file, error}` for POST /inspect, file from the
 * X-File-Name header, else "upload"): 400 unreadable image / empty body / bad, unknown
 * or repeated query parameter / malformed request, 404 unknown path, 405 wrong method, 408 an upload
 * that stalled (no bytes for uploadIdleMs), one slower than uploadMinBytesPerSec once twice
 * uploadIdleMs have passed, or a request over the request timeout, 413 body over
 * the limit, 415 a form upload instead of the image bytes, 429 a client over maxPerClient (with
 * Retry-After), 503 queue full (with Retry-After), 500
 * anything else. A failed request never stops the service. Images are inspected one at a time (the
 * ONNX session uses every core) behind a bounded waiting line; a request takes its place in it before
 * its upload is read (so an overloaded service answers 503 at once, and at most concurrency +
 * maxWaiting uploads are in memory), an upload that stalls gives its place back after uploadIdleMs
 * and one that trickles once it falls below the minimum rate, and a request whose client has gone is
 * dropped before it runs (logged as 499). With maxPerClient one client address holds at most that
 * many places (off by default: behind a reverse proxy every client has its address; limit there).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InspectError, type Inspector } from '../quality/inspector.js';
import { AttnvisionError, checkInt, parseDecimal } from '../util/errors.js';
import { inspectorPage } from './page.js';
import { StaticAssets } from './assets.js';
import { BoundedQueue, QueueFullError } from './queue.js';

export interface ServerOptions {
  /** Largest accepted request body in bytes (default 25 MB). */
  maxBytes?: number;
  /** Images inspected at the same time (default 1). */
  concurrency?: number;
  /** Requests allowed to wait for a slot before 503 (default 16). */
  maxWaiting?: number;
  /** Time allowed to receive a whole request, ms (default 60 000). */
  requestTimeoutMs?: number;
  /**
   * An upload that sends no bytes for this long is refused with 408 and its queue place freed, ms
   * (default 10 000; 0: only the request timeout applies).
   */
  uploadIdleMs?: number;
  /**
   * Once twice uploadIdleMs have passed (20 s when that is 0), an upload must have averaged at
   * least this many bytes per second since it began, or it is refused with 408 and its queue place
   * freed (default 16 384; 0: no rate limit). A trickling client cannot hold a place for the whole
   * request timeout while sending almost nothing; a stalled one is caught by uploadIdleMs first.
   */
  uploadMinBytesPerSec?: number;
  /**
   * Requests to POST /inspect one client address may have in the service at once (uploading,
   * waiting or being inspected); more are answered 429 with Retry-After before their upload is
   * read (default 0: no limit). Behind a reverse proxy every client has the proxy's address: set
   * the limit there instead.
   */
  maxPerClient?: number;
  /** Images above this many pixels are refused from their header (default 100 MP, as inspect). */
  maxPixels?: number;
  /** On close, connections still open after this long are cut, ms (default 10 000). */
  closeGraceMs?: number;
  /** One line per request (method, path, status, time, bytes); default: silent. */
  log?: (line: string) => void;
}

export class HttpError extends AttnvisionError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The upload the error is about (POST /inspect): its answer is `{file, error}`. */
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface InspectorServer {
  readonly server: http.Server;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting connections and resolves when in-flight requests are done (connections still open after closeGraceMs are cut). */
  close(): Promise<void>;
}

const ROUTES: Record<string, string> = { '/': 'GET', '/healthz': 'GET', '/inspect': 'POST', '/model.json': 'GET' };
const PATHS = 'GET /, GET /healthz, POST /inspect, GET /model.json, GET /model.onnx, GET /lib/..., GET /ort/...';
/** Query parameters of POST /inspect. */
const INSPECT_PARAMS = ['threshold'];

/** The client closed the connection before its answer: nothing to send (logged as 499). */
class ClientGone extends AttnvisionError {}

/** A request whose client has gone away (closed the connection, aborted the upload). */
function clientGone(req: http.IncomingMessage, res: http.ServerResponse, e?: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return e instanceof ClientGone || req.socket.destroyed || res.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || (e as Error | undefined)?.message === 'aborted';
}

/** A declared body (Content-Length) over `max` bytes: 413 before any of it is read. */
function checkDeclaredSize(req: http.IncomingMessage, max: number): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) throw new HttpError(413, `request body of ${declared} bytes is over the ${max}-byte limit`);
}

/** The longest delay setTimeout keeps (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long an upload may be idle, and how fast it must be on average after its grace period. */
interface UploadPace {
  /** No bytes for this long: 408 (0: no idle limit). */
  idleMs: number;
  /** Average bytes per second asked once `graceMs` have passed (0: no rate limit). */
  minBytesPerSec: number;
  graceMs: number;
}

/**
 * Reads the whole body, refusing more than `max` bytes (413) as soon as that is known, an upload
 * that sends nothing for `pace.idleMs` and one whose average rate since it began is under
 * `pace.minBytesPerSec` once `pace.graceMs` have passed (408), so a stalled or trickling client
 * gives its queue place back long before the request timeout.
 */
function readBody(req: http.IncomingMessage, max: number, pace: UploadPace): Promise<Buffer> {
  checkDeclaredSize(req, max);
  const { idleMs, minBytesPerSec, graceMs } = pace;
  const started = performance.now();
  const of = () => (req.headers['content-length'] ? ` of ${req.headers['content-length']}` : '');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const stop = (e?: Error) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (e) {
        // Nothing more is read; the answer closes the connection.
        req.pause();
        reject(e);
      }
    };
    let lastData = started;
    // When each limit is reached: idle (no bytes since the last ones) and rate (the bytes so far too
    // few: the grace period, then size / rate from the start).
    const idleAt = () => (idleMs ? lastData + idleMs : Infinity);
    const slowAt = () => (minBytesPerSec ? started + Math.max(graceMs, (size / minBytesPerSec) * 1000) : Infinity);
    // One timer for the nearer limit; when it fires, both are judged afresh ("stalled" first).
    const check = () => {
      const now = performance.now();
      if (now >= idleAt()) return stop(new HttpError(408, `upload stalled: no bytes for ${idleMs / 1000} s (${size} bytes received${of()})`));
      if (now >= slowAt()) return stop(new HttpError(408, `upload too slow: ${size} bytes${of()} in ${((now - started) / 1000).toFixed(1)} s, under the ${minBytesPerSec} bytes/s asked after the first ${graceMs / 1000} s`));
      arm();
    };
    const arm = () => {
      clearTimeout(timer);
      const next = Math.min(idleAt(), slowAt());
      // Node fires longer delays than 2^31 - 1 ms at once: wait at most that long, then judge again.
      if (next !== Infinity) timer = setTimeout(check, Math.min(MAX_TIMER_MS, Math.max(0, next - performance.now())));
    };
    const onData = (chunk: Buffer) => {
      lastData = performance.now();
      size += chunk.length;
      if (size > max) return stop(new HttpError(413, `request body is over the ${max}-byte limit`));
      chunks.push(chunk);
      arm();
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => stop(e);
    // The connection closed before the whole body: the client has gone.
    const onClose = () => stop(new ClientGone('client closed the connection during the upload'));
    if (req.destroyed) return reject(new ClientGone('client closed the connection before the upload'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    arm();
  });
}

/** The query of POST /inspect: known keys only, each at most once. */
function checkQuery(url: URL): void {
  for (const key of new Set(url.searchParams.keys())) {
    if (!INSPECT_PARAMS.includes(key)) throw new HttpError(400, `unknown query parameter "${key.slice(0, 50)}" (known: ${INSPECT_PARAMS.join(', ')})`);
    if (url.searchParams.getAll(key).length > 1) throw new HttpError(400, `query parameter "${key}" is given more than once`);
  }
}

function parseThreshold(v: string | null): number | undefined {
  if (v === null) return undefined;
  const t = parseDecimal(v);
  if (!(t > 0 && t < 1)) throw new HttpError(400, `expected a number in (0, 1) for threshold but received "${v}"`);
  return t;
}

function fileName(req: http.IncomingMessage): string {
  const raw = req.headers['x-file-name'];
  if (typeof raw !== 'string' || !raw) return 'upload';
  try {
    return decodeURIComponent(raw).slice(0, 200);
  } catch {
    return 'upload';
  }
}

/** Any error as the answer it gets; `file`: the upload it is about (POST /inspect), if not named yet. */
function toHttpError(e: unknown, file?: string): HttpError {
  const err = e instanceof HttpError ? e : e instanceof QueueFullError ? new HttpError(503, e.message, { 'Retry-After': '1' }) : new HttpError(500, `internal error: ${(e as Error).message ?? String(e)}`);
  return file === undefined || err.file !== undefined ? err : new HttpError(err.status, err.message, err.headers, file);
}

/** What the service needs of an inspector. */
export type InspectorLike = Pick<Inspector, 'inspect' | 'config' | 'modelPath' | 'thresholds'>;

export function createInspectorServer(inspector: InspectorLike, opts: ServerOptions = {}): InspectorServer {
  // Limits that are not positive numbers would switch protection off (NaN: no body limit) or refuse everything.
  const positive = (name: string, v: unknown) => v !== undefined && checkInt('createInspectorServer', name, v, 1);
  positive('maxBytes', opts.maxBytes);
  if (opts.maxPixels !== Infinity) positive('maxPixels', opts.maxPixels);
  if (opts.closeGraceMs !== 0) positive('closeGraceMs', opts.closeGraceMs);
  // 0 = no request timeout, as for Node's server.requestTimeout.
  if (opts.requestTimeoutMs !== 0) positive('requestTimeoutMs', opts.requestTimeoutMs);
  if (opts.uploadIdleMs !== 0) positive('uploadIdleMs', opts.uploadIdleMs);
  if (opts.uploadMinBytesPerSec !== 0) positive('uploadMinBytesPerSec', opts.uploadMinBytesPerSec);
  if (opts.maxPerClient !== 0) positive('maxPerClient', opts.maxPerClient);
  if (opts.log !== undefined && typeof opts.log !== 'function') throw new AttnvisionError(`createInspectorServer: log must be a function (line: string) => void; got ${typeof opts.log}`);
  const maxBytes = opts.maxBytes ?? 25_000_000;
  const maxPixels = opts.maxPixels ?? 100_000_000;
  const closeGraceMs = opts.closeGraceMs ?? 10_000;
  const uploadIdleMs = opts.uploadIdleMs ?? 10_000;
  const pace: UploadPace = { idleMs: uploadIdleMs, minBytesPerSec: opts.uploadMinBytesPerSec ?? 16_384, graceMs: 2 * (uploadIdleMs || 10_000) };
  const queue = new BoundedQueue(opts.concurrency ?? 1, opts.maxWaiting ?? 16);
  const maxPerClient = opts.maxPerClient ?? 0;
  /** POST /inspect requests in the service per client address (only with maxPerClient). */
  const perClient = new Map<string, number>();
  const assets = new StaticAssets(inspector.modelPath);
  const page = inspectorPage({ model: inspector.config.model ?? inspector.modelPath, labels: inspector.config.labels, threshold: inspector.config.threshold, perLabel: !!inspector.config.labelThresholds, maxBytes, browserMode: assets.browserMode });

  function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
    // Cross-origin isolation lets onnxruntime-web run multi-threaded in the page.
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', ...headers });
    res.end(body);
  }
  const json = (res: http.ServerResponse, status: number, value: unknown, headers?: Record<string, string>) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', headers);

  /** POST /inspect. `continueFirst`: the client sent "Expect: 100-continue" and waits for it before the upload. */
  async function inspect(req: http.IncomingMessage, res: http.ServerResponse, url: URL, continueFirst: boolean): Promise<unknown> {
    checkQuery(url);
    const threshold = parseThreshold(url.searchParams.get('threshold'));
    // A multipart form wraps the image in boundaries and headers; curl --data-binary sends the raw
    // bytes labelled application/x-www-form-urlencoded, which must stay accepted.
    const type = req.headers['content-type'] ?? '';
    if (/^multipart\/form-data\b/i.test(type)) {
      throw new HttpError(415, `send the image bytes as the body (curl --data-binary @photo.jpg), not a multipart form (curl -F)`);
    }
    // One client may hold at most maxPerClient of the places (checked before the queue, so a
    // refused request takes none).
    const client = req.socket.remoteAddress ?? 'unknown';
    const held = perClient.get(client) ?? 0;
    if (maxPerClient && held >= maxPerClient) {
      throw new HttpError(429, `too many requests from ${client} at once (${held} in the service; at most ${maxPerClient} per client)`, { 'Retry-After': '1' });
    }
    // A place in the queue before the upload is read: 503 at once when full, bounded memory.
    const admission = queue.admit();
    if (maxPerClient) perClient.set(client, held + 1);
    try {
      if (continueFirst) {
        // Every check that needs no body is done (size, query, type, a queue place): invite it.
        checkDeclaredSize(req, maxBytes);
        res.writeContinue();
      }
      const body = await readBody(req, maxBytes, pace);
      const name = fileName(req);
      if (body.length === 0) throw new HttpError(400, 'empty request body: send the image bytes as the POST body');
      return await admission.run(async () => {
        if (clientGone(req, res)) throw new ClientGone('client closed the connection while waiting');
        const t0 = performance.now();
        try {
          const r = await inspector.inspect(body, { name, threshold, maxPixels });
          return { file: name, ...r, model: inspector.config.model, ms: Math.round(performance.now() - t0) };
        } catch (e) {
          if (e instanceof InspectError) throw new HttpError(400, e.message);
          throw e;
        }
      });
    } finally {
      admission.release();
      if (maxPerClient) {
        const n = (perClient.get(client) ?? 1) - 1;
        if (n > 0) perClient.set(client, n);
        else perClient.delete(client);
      }
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, continueFirst: boolean): Promise<number> {
    // Appended, not resolved: "//inspect" is a path here, not a protocol-relative host.
    const url = new URL(`http://localhost${req.url ?? '/'}`);
    const method = ROUTES[url.pathname];
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return 204;
    }
    const asset = method ? null : await assets.get(url.pathname);
    if (asset) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${url.pathname}: use GET`, { Allow: 'GET' });
      send(res, 200, asset.body, asset.type, { 'Cache-Control': 'max-age=3600' });
      return 200;
    }
    if (!method) throw new HttpError(404, `no such path ${url.pathname.length > 200 ? url.pathname.slice(0, 200) + '...' : url.pathname} (paths: ${PATHS})`);
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) throw new HttpError(405, `${req.method} ${url.pathname}: use ${method}`, { Allow: method });
    if (url.pathname === '/') send(res, 200, page, 'text/html; charset=utf-8');
    else if (url.pathname === '/model.json') json(res, 200, inspector.config);
    else if (url.pathname === '/healthz') json(res, 200, { status: 'ok', model: inspector.config.model, labels: inspector.config.labels, inputSize: inspector.config.inputSize, thresholds: inspector.thresholds(), queue: queue.stats });
    else {
      // Answers to POST /inspect name the upload, as the CLI's per-file entries do.
      const result = await inspect(req, res, url, continueFirst).catch((e: unknown) => {
        throw clientGone(req, res, e) ? e : toHttpError(e, fileName(req));
      });
      json(res, 200, result);
    }
    return 200;
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse, continueFirst = false): void {
    const t0 = performance.now();
    handle(req, res, continueFirst)
      .catch((e: unknown) => {
        if (clientGone(req, res, e)) {
          res.destroy();
          return 499;
        }
        const err = toHttpError(e);
        // A refused upload may still be arriving: answer, then close the connection.
        const headers = [408, 413, 415, 429, 503].includes(err.status) ? { ...err.headers, Connection: 'close' } : err.headers;
        if (!res.headersSent) json(res, err.status, err.file !== undefined ? { file: err.file, error: err.message } : { error: err.message }, headers);
        else res.destroy();
        return err.status;
      })
      // A failing logger (throwing or rejecting) must not take the service down.
      .then((status) => opts.log?.(`${req.method} ${req.url} ${status} ${Math.round(performance.now() - t0)}ms`))
      .catch(() => undefined);
  }

  const server = http.createServer(onRequest);
  // "Expect: 100-continue": the upload is invited only once the request has passed every check that
  // needs no body (size, query, type) and holds a queue place (inspect); other answers come first.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => onRequest(req, res, true));
  // Malformed requests (bad headers, oversized headers, timeouts) get a JSON answer too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ error: status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : `malformed request (${err.code ?? err.message})` });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.requestTimeout = opts.requestTimeoutMs ?? 60_000;
  server.headersTimeout = server.requestTimeout ? Math.min(server.requestTimeout, 20_000) : 20_000;

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        // A string would make Node listen on a Unix socket of that name.
        if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) return reject(new AttnvisionError(`listen: expected a port number in [0, 65535] but received ${JSON.stringify(port)}`));
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: async () => {
      // Node stops enforcing the request timeout once closing, so a stalled upload would hold the
      // service open for ever: connections still open after the grace period are cut.
      const cut = setTimeout(() => server.closeAllConnections(), closeGraceMs);
      try {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await queue.drained();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
