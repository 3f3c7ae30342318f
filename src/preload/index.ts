import { contextBridge, ipcRenderer } from 'electron';
import type { EngineEvent, WinnowTransport } from '../shared/api.ts';
import { channel, EVENT_CHANNEL, METHODS } from '../shared/methods.ts';

// The renderer gets this one typed object and nothing else: no ipcRenderer, no Node. Requests are
// validated again in the main process; nothing here is trusted there.
const api = {
  ...Object.fromEntries(
    METHODS.map((method) => [method, (request: unknown) => ipcRenderer.invoke(channel(method), request)]),
  ),
  onEvent(listener: (event: EngineEvent) => void): () => void {
    const forward = (_: unknown, event: EngineEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => ipcRenderer.off(EVENT_CHANNEL, forward);
  },
} as unknown as WinnowTransport;

contextBridge.exposeInMainWorld('winnow', api);
