// The entry of Electron's engine utility process: the whole engine, off the window's threads.
// It is given the project directory and talks to the main process over process.parentPort.
import { QueueChoice } from '../queue/queueChoice.ts';
import { createEngine } from '../service/winnowService.ts';
import { openProject } from '../store/project.ts';
import { hostEngine } from './host.ts';
import type { FromEngine, ToEngine } from './protocol.ts';

interface ParentPort {
  on(event: 'message', listener: (message: { data: ToEngine }) => void): void;
  postMessage(message: FromEngine): void;
}

const parentPort = (process as unknown as { parentPort: ParentPort }).parentPort;
const dir = process.argv.at(-1) as string;
hostEngine(
  {
    onMessage: (listener) => parentPort.on('message', (message) => listener(message.data)),
    post: (message) => parentPort.postMessage(message),
  },
  createEngine(openProject(dir), { queue: QueueChoice.forUser(undefined) }),
);
