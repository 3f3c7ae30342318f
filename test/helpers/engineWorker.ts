// A worker thread hosting the engine exactly as Electron's utility process does (engineHost/utility.ts),
// over worker_threads' parentPort instead of Electron's.
import { parentPort, workerData } from 'node:worker_threads';
import { hostEngine } from '../../src/main/engineHost/host.ts';
import type { FromEngine, ToEngine } from '../../src/main/engineHost/protocol.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { openProject } from '../../src/main/store/project.ts';

const port = parentPort!;
hostEngine(
  {
    onMessage: (listener) => port.on('message', (message: ToEngine) => listener(message)),
    post: (message: FromEngine) => port.postMessage(message),
  },
  createEngine(openProject((workerData as { dir: string }).dir)),
);
