/**
 * The inspector as an HTTP service (Node only): `createInspectorServer(inspector, opts)`, best with a
 * `WorkerInspector` (inference off the thread that answers HTTP).
 */
export { createInspectorServer, HttpError, type InspectorServer, type InspectorLike, type ServerOptions } from './server.js';
export { BoundedQueue, QueueFullError } from './queue.js';
export { inspectorPage } from './page.js';
export { WorkerInspector } from './worker_inspector.js';
