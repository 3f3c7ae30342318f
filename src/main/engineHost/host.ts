import { METHODS } from '../../shared/methods.ts';
import { type Engine, handle } from '../service/winnowService.ts';
import type { FromEngine, Port, ToEngine } from './protocol.ts';

/**
 * Serves an engine over a port: each request is validated and dispatched exactly as over IPC or
 * HTTP, and engine events stream back. Runs in the utility process, off the window's threads.
 */
export function hostEngine(port: Port<ToEngine, FromEngine>, engine: Engine): void {
  engine.subscribe((event) => port.post({ type: 'event', event }));
  port.onMessage((message) => {
    if (message.type === 'close') {
      // Answered even if closing failed: the app is quitting either way, and must not wait forever.
      void engine
        .close()
        .catch((error: unknown) => console.error('The engine did not close cleanly:', error))
        .then(() => port.post({ type: 'closed' }));
      return;
    }
    const method = (METHODS as readonly string[]).includes(message.method) ? message.method : undefined;
    if (method === undefined) {
      port.post({
        type: 'result',
        id: message.id,
        result: { ok: false, error: `There is no API method ${String(message.method)}.` },
      });
      return;
    }
    void handle(engine.api, method, message.request).then((result) =>
      port.post({ type: 'result', id: message.id, result }),
    );
  });
}
