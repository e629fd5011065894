/**
 * A fast-path helper's worker: the file that platform.ts's startWorker starts, in Node as a
 * worker_threads worker (dist/kernels/wasm/wasm-worker.js) and in a browser as a module Web
 * Worker (dist/web/wasm-worker.js, bundled by scripts/build-web.mjs). It takes its setup
 * (the module, the shared memory, its channel) and serves the channel's jobs until STOP.
 */
import { serveJobs } from './threads.js';
import { workerSetup } from './platform.js';

// a setup-less start (the file imported, not started by startWorker) serves nothing
void workerSetup().then((setup) => setup && serveJobs(setup));
