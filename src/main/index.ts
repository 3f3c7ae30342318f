// The one file of src/main that imports electron: it wires the engine to windows.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, type IpcMainInvokeEvent, net, protocol, session, shell } from 'electron';
import { channel, EVENT_CHANNEL, METHODS } from '../shared/methods.ts';
import { currentOrDemoProjectDir } from './pipeline/demo.ts';
import { isImageHash, THUMBNAIL_SIZES } from './store/imageStore.ts';
import { openProject, type Project } from './store/project.ts';
import { createEngine, type Engine, handle } from './service/winnowService.ts';

const CSP =
  "default-src 'self'; img-src 'self' data: winnow-image:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

// Images reach the renderer only through this scheme: a content hash in, a file of the project's
// image store out; nothing else on disk can be named (never raw file://).
protocol.registerSchemesAsPrivileged([{ scheme: 'winnow-image', privileges: { standard: true, secure: true } }]);

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
      disableBlinkFeatures: 'Auxclick',
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

let opened: Promise<{ project: Project; engine: Engine }> | undefined;
function engine(): Promise<{ project: Project; engine: Engine }> {
  opened ??= currentOrDemoProjectDir().then((dir) => {
    const project = openProject(dir);
    const engine = createEngine(project);
    // Engine events go to every window.
    engine.subscribe((event) => {
      for (const window of BrowserWindow.getAllWindows()) window.webContents.send(EVENT_CHANNEL, event);
    });
    return { project, engine };
  });
  return opened;
}

async function imageResponse(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const parts = url.pathname.split('/').filter(Boolean);
  const { project } = await engine();
  const hash = parts.at(-1)?.replace(/\.png$/, '') ?? '';
  if (!isImageHash(hash)) return new Response('not found', { status: 404 });
  let path: string | undefined;
  if (url.host === 'images' && parts.length === 1) path = project.images.pathOf(hash);
  else if (url.host === 'thumbs' && parts.length === 2 && THUMBNAIL_SIZES.has(Number(parts[0]))) {
    path = await project.images.thumbnail(hash, Number(parts[0])).catch(() => undefined);
  }
  if (path === undefined) return new Response('not found', { status: 404 });
  return net.fetch(pathToFileURL(path).toString());
}

for (const method of METHODS) {
  ipcMain.handle(channel(method), async (event, request: unknown) => {
    if (!trusted(event)) throw new Error('IPC from an untrusted frame');
    return handle((await engine()).engine.api, method, request);
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(() => {
  protocol.handle('winnow-image', imageResponse);
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
