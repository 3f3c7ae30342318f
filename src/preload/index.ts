import { contextBridge, ipcRenderer } from 'electron';
import { channels, type ProjectStatus, type WinnowApi } from '../shared/api.ts';

// The renderer gets this one typed object and nothing else: no ipcRenderer, no Node.
const api: WinnowApi = {
  projectStatus: () => ipcRenderer.invoke(channels.projectStatus) as Promise<ProjectStatus>,
};

contextBridge.exposeInMainWorld('winnow', api);
