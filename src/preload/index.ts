import { contextBridge, ipcRenderer } from 'electron';
import type { WinnowTransport } from '../shared/api.ts';
import { channel, METHODS } from '../shared/methods.ts';

// The renderer gets this one typed object and nothing else: no ipcRenderer, no Node. Requests are
// validated again in the main process; nothing here is trusted there.
const api = Object.fromEntries(
  METHODS.map((method) => [method, (request: unknown) => ipcRenderer.invoke(channel(method), request)]),
) as unknown as WinnowTransport;

contextBridge.exposeInMainWorld('winnow', api);
