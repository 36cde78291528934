/**
 * `attnvision serve`: the inspector as an HTTP service with its web page (src/server).
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { createInspectorServer } from '../../server/server.js';
import { WorkerInspector } from '../../server/worker_inspector.js';

const usage = `Usage: attnvision serve [--port 8080] [--host 127.0.0.1] [--model model.onnx] [--max-mb 25] [--max-mp 100] [--queue 16] [--max-per-client N] [--quiet]

Serves the image-quality inspector over HTTP until interrupted (Ctrl-C / SIGTERM finish the requests
in flight, then exit; connections still open after 10 s are cut; a second Ctrl-C exits at once):
  GET  /          web page: drop, pick or paste a photo; labels, severities, tile heatmap
  GET  /healthz   service status, model, labels, queue
  GET  /model.onnx, /model.json, /lib/*, /ort/*
                  files of the page's in-browser mode (onnxruntime-web, when installed)
  POST /inspect   body = the image bytes, optional ?threshold=T; answers the JSON of inspect
                  (curl --data-binary @photo.jpg http://127.0.0.1:8080/inspect)
Errors answer JSON {error} ({file, error} from /inspect; file = the X-File-Name header or
"upload"): 400 bad image, parameter or request, 404, 405, 408 an upload that sent nothing for
10 s or averaged under 16 KiB/s after its first 20 s, 413 too large, 415 a form upload (send the
bytes), 429 a client over --max-per-client, 503 busy (the queue is full; checked before the upload).
  --port N     TCP port (0 = any free port)                     [8080]
  --host H     address to listen on (0.0.0.0 for every interface) [127.0.0.1]
  --model F    another inspector ONNX model (config read from F with .json)
  --max-mb N   largest accepted upload in MB                    [25]
  --max-mp N   largest accepted image in megapixels (from its header) [100]
  --queue N    requests that may wait while one is inspected     [16]
  --max-per-client N  inspect requests one client address may have in the service at once
               (uploading, waiting or running; more get 429); behind a reverse proxy, limit
               there instead                                   [no limit]
  --quiet      no per-request log lines`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the inspector as an HTTP service with a web page',
  usage,
  handlesSignals: true,
  async run(argv) {
    const a = parseArgs(argv, { values: ['port', 'host', 'model', 'max-mb', 'max-mp', 'queue', 'max-per-client'], booleans: ['quiet'], positional: 0 }, 'serve');
    const port = flagNumber(a, 'port', 8080, 'serve', { int: true, min: 0, max: 65535 });
    const host = flagString(a, 'host', '127.0.0.1')!;
    const maxBytes = Math.round(flagNumber(a, 'max-mb', 25, 'serve', { min: 0.001 }) * 1e6);
    const maxPixels = Math.round(flagNumber(a, 'max-mp', 100, 'serve', { min: 0.001 }) * 1e6);
    const maxWaiting = flagNumber(a, 'queue', 16, 'serve', { int: true, min: 0 });
    const maxPerClient = flagNumber(a, 'max-per-client', 0, 'serve', { int: true, min: 1 });
    // Inference in a worker thread: the service answers /healthz, uploads and 503s while it runs.
    const inspector = await WorkerInspector.load({ model: flagString(a, 'model') });
    const quiet = a.flags.has('quiet');
    const service = createInspectorServer(inspector, { maxBytes, maxPixels, maxWaiting, maxPerClient, log: quiet ? undefined : (l) => console.log(l) });
    let addr;
    try {
      addr = await service.listen(port, host);
    } catch (e) {
      await inspector.dispose();
      throw new Error(`serve: cannot listen on ${host}:${port} (${(e as Error).message})`);
    }
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    console.log(`attnvision inspector (${inspector.config.model}) listening on http://${shown}:${addr.port}/`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('serve: shutting down (finishing requests in flight; Ctrl-C again to exit at once)');
    const force = () => process.exit(130);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    await service.close();
    await inspector.dispose();
    return 0;
  },
};
