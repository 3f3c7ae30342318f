// The one file of src/main that imports electron: it wires the engine to windows.
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, type IpcMainInvokeEvent, session, shell } from 'electron';
import type { WinnowApi } from '../shared/api.ts';
import { channel, METHODS } from '../shared/methods.ts';
import { currentOrDemoProjectDir } from './pipeline/demo.ts';
import { openProject } from './store/project.ts';
import { createService, handle } from './service/winnowService.ts';

const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Winnow',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  window.once('ready-to-show', () => window.show());
  // No navigation away from the app and no new windows: links open in the user's browser.
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const devServer = process.env.ELECTRON_RENDERER_URL;
  if (devServer) void window.loadURL(devServer);
  else void window.loadFile(join(import.meta.dirname, '../renderer/index.html'));
  return window;
}

/** Only our own windows' top frames may call the engine. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame === event.sender.mainFrame && BrowserWindow.fromWebContents(event.sender) !== null;
}

let service: Promise<WinnowApi> | undefined;
function engine(): Promise<WinnowApi> {
  service ??= currentOrDemoProjectDir().then((dir) => createService(openProject(dir)));
  return service;
}

for (const method of METHODS) {
  ipcMain.handle(channel(method), async (event, request: unknown) => {
    if (!trusted(event)) throw new Error('IPC from an untrusted frame');
    return handle(await engine(), method, request);
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
