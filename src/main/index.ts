// The one file of src/main that imports electron: it wires the engine to windows. The engine itself
// runs in a utility process (engineHost/utility.ts), so a long run never blocks a window.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  ipcMain,
  type IpcMainInvokeEvent,
  net,
  protocol,
  type Session,
  session,
  utilityProcess,
} from 'electron';
import { channel, EVENT_CHANNEL, METHODS } from '../shared/methods.ts';
import { EngineClient } from './engineHost/client.ts';
import type { FromEngine } from './engineHost/protocol.ts';
import { currentOrDemoProjectDir } from './pipeline/demo.ts';
import { APP_ENTRY_URL, APP_SCHEME, appProtocolHandler, CSP } from './shell/appProtocol.ts';
import { denyAllPermissions } from './shell/permissions.ts';
import { devServerUrl, isTrustedSenderUrl, trustedOrigin } from './shell/trust.ts';
import { ImageStore, isImageHash, THUMBNAIL_SIZES } from './store/imageStore.ts';
import { IMAGES_DIR } from './store/project.ts';

// Read once at start: a packaged app ignores ELECTRON_RENDERER_URL, a dev run accepts only a
// loopback http URL (shell/trust.ts).
const devServer = devServerUrl(process.env.ELECTRON_RENDERER_URL, app.isPackaged);
const origin = trustedOrigin(devServer);
const rendererRoot = join(import.meta.dirname, '../renderer');

// Both schemes in one call (a second call would replace the first). app: serves the built renderer
// (shell/appProtocol.ts); winnow-image: serves images to it, a content hash in, a file of the
// project's image store out; nothing else on disk can be named (never raw file://).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true } },
  { scheme: 'winnow-image', privileges: { standard: true, secure: true } },
]);

function createWindow(windowSession: Session): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Winnow',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      session: windowSession,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServer ?? APP_ENTRY_URL);
  return window;
}

/** Only our own windows' top frames, showing our own pages, may call the engine. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return (
    frame !== null &&
    frame === event.sender.mainFrame &&
    BrowserWindow.fromWebContents(event.sender) !== null &&
    isTrustedSenderUrl(frame.url, origin)
  );
}

function startEngine(dir: string): EngineClient {
  const child = utilityProcess.fork(join(import.meta.dirname, 'engine.js'), [dir], { serviceName: 'Winnow engine' });
  const client = new EngineClient({
    onMessage: (listener) => child.on('message', (message: FromEngine) => listener(message)),
    post: (message) => child.postMessage(message),
  });
  child.on('exit', (code) => client.engineEnded(`The engine process stopped (exit code ${code}); restart Winnow.`));
  client.onEvent((event) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(EVENT_CHANNEL, event);
  });
  return client;
}

/**
 * How long quitting waits for the engine to close. A run pauses at its next step, which is seconds;
 * a stage that ignores the signal longer is cut off (the run is then left interrupted, and resumes
 * as after a crash) rather than keep the app from quitting.
 */
const CLOSE_WAIT_MS = 15_000;

/** Quitting first closes the engine, so that a run is paused (not killed) and an import stopped cleanly. */
function quitAfterClosing(engine: EngineClient): void {
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void Promise.race([engine.close(), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS))]).then(() => {
      closed = true;
      app.quit();
    });
  });
}

function imageHandler(images: () => ImageStore) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const parts = url.pathname.split('/').filter(Boolean);
    const hash = parts.at(-1)?.replace(/\.png$/, '') ?? '';
    if (!isImageHash(hash)) return new Response('not found', { status: 404 });
    let path: string | undefined;
    if (url.host === 'images' && parts.length === 1) path = images().pathOf(hash);
    else if (url.host === 'thumbs' && parts.length === 2 && THUMBNAIL_SIZES.has(Number(parts[0]))) {
      path = await images()
        .thumbnail(hash, Number(parts[0]))
        .catch(() => undefined);
    }
    if (path === undefined) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(path).toString());
  };
}

// Every web contents, the window's or any other: no webviews, no navigation away from the page it
// loaded (the app's routes are in-page hash changes, which are not navigations), and no new windows.
// The renderer has no external links, so nothing is ever handed to shell.openExternal.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

void app.whenReady().then(async () => {
  // The window's session, set up completely before the window exists.
  const windowSession = session.defaultSession;
  windowSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  denyAllPermissions(windowSession);
  windowSession.protocol.handle(
    APP_SCHEME,
    appProtocolHandler(rendererRoot, (fileUrl) => net.fetch(fileUrl)),
  );
  const dir = await currentOrDemoProjectDir();
  const engine = startEngine(dir);
  // The image store follows the engine when it opens another project.
  let images = new ImageStore(join(dir, IMAGES_DIR));
  engine.onEvent((event) => {
    if (event.type === 'project') images = new ImageStore(join(event.dir, IMAGES_DIR));
  });
  windowSession.protocol.handle(
    'winnow-image',
    imageHandler(() => images),
  );
  for (const method of METHODS) {
    ipcMain.handle(channel(method), (event, request: unknown) => {
      if (!trusted(event)) throw new Error('IPC from an untrusted frame');
      return engine.call(method, request);
    });
  }
  quitAfterClosing(engine);
  createWindow(windowSession);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(windowSession);
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
