/**
 * The inspector as an HTTP service (Node only): `createInspectorServer(inspector, opts)`.
 */
export { createInspectorServer, HttpError, type InspectorServer, type InspectorLike, type ServerOptions } from './server.js';
export { BoundedQueue, QueueFullError } from './queue.js';
export { inspectorPage } from './page.js';
