import type { EngineEvent, Result } from '../../shared/api.ts';
import type { Method } from '../../shared/methods.ts';

/**
 * Messages between the Electron main process and the engine's utility process. `close` comes when
 * the app quits: the engine pauses a run and stops an import or remedy trial, closes the project,
 * then answers `closed`.
 */
export type ToEngine =
  | { readonly type: 'call'; readonly id: number; readonly method: Method; readonly request: unknown }
  | { readonly type: 'close' };
export type FromEngine =
  | { readonly type: 'result'; readonly id: number; readonly result: Result<unknown> }
  | { readonly type: 'event'; readonly event: EngineEvent }
  | { readonly type: 'closed' };

/** The one thing both ends need of a message port (Electron's parentPort, a worker_threads port, a MessagePort). */
export interface Port<In, Out> {
  onMessage(listener: (message: In) => void): void;
  post(message: Out): void;
}
