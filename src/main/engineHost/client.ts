import type { EngineEvent, Result } from '../../shared/api.ts';
import type { Method } from '../../shared/methods.ts';
import type { FromEngine, Port, ToEngine } from './protocol.ts';

/** The main process's end of the engine port: calls return their results, events fan out. */
export class EngineClient {
  private readonly port: Port<FromEngine, ToEngine>;
  private next = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private closing: Promise<void> | undefined;
  private closed = (): void => {};
  /** Why the engine process ended, once it has: later calls get it at once. */
  private ended: string | undefined;

  constructor(port: Port<FromEngine, ToEngine>) {
    this.port = port;
    port.onMessage((message) => {
      if (message.type === 'event') {
        for (const listener of this.listeners) listener(message.event);
      } else if (message.type === 'closed') {
        this.closed();
      } else {
        this.pending.get(message.id)?.(message.result);
        this.pending.delete(message.id);
      }
    });
  }

  call(method: Method, request: unknown): Promise<Result<unknown>> {
    if (this.ended !== undefined) return Promise.resolve({ ok: false, error: this.ended });
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.port.post({ type: 'call', id, method, request });
    });
  }

  /** Asks the engine to close (pausing a run, stopping an import); resolves once it has, or has died. */
  close(): Promise<void> {
    if (this.ended !== undefined) return Promise.resolve();
    this.closing ??= new Promise((resolve) => {
      this.closed = resolve;
      this.port.post({ type: 'close' });
    });
    return this.closing;
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The engine process ended: every call waiting, and every later one, fails with the reason; a close is over. */
  engineEnded(reason: string): void {
    this.ended = reason;
    for (const resolve of this.pending.values()) resolve({ ok: false, error: reason });
    this.pending.clear();
    this.closed();
  }
}
