// The real Electron entry (src/main/index.ts) run under Node against a stand-in for the electron
// module that records what the entry asks of it: which URL the window loads, which handlers its
// session gets and what they answer, which IPC senders reach the engine, what new windows and
// navigations do. The Electron binary cannot run here; this checks the wiring the binary would get.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { channel } from '../../src/shared/methods.ts';

type Listener = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  const state = {
    isPackaged: true,
    projectDir: '',
    appListeners: new Map<string, Listener[]>(),
    schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
    protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
    ipc: new Map<string, (event: unknown, request: unknown) => unknown>(),
    posted: [] as ({ type: 'call'; id: number; method: string } | { type: 'close' })[],
    /** Whether the engine answers a close (a stuck one never does). */
    answersClose: true,
    quits: 0,
    openedExternally: [] as string[],
    windows: [] as FakeWindow[],
    session: undefined as unknown as FakeSession,
  };
  class FakeSession {
    requestHandler?: Listener;
    checkHandler?: Listener;
    deviceHandler?: Listener;
    webRequest = { onHeadersReceived: () => {} };
    protocol = {
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
        state.protocolHandlers.set(scheme, handler),
    };
    setPermissionRequestHandler(handler: Listener) {
      this.requestHandler = handler;
    }
    setPermissionCheckHandler(handler: Listener) {
      this.checkHandler = handler;
    }
    setDevicePermissionHandler(handler: Listener) {
      this.deviceHandler = handler;
    }
  }
  class FakeContents {
    mainFrame = { url: '' };
    listeners = new Map<string, Listener[]>();
    windowOpenHandler?: (details: { url: string }) => { action: string };
    session: FakeSession;
    constructor(session: FakeSession) {
      this.session = session;
    }
    on(event: string, listener: Listener) {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    }
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      this.windowOpenHandler = handler;
    }
    send() {}
  }
  class FakeWindow {
    loaded: string | undefined;
    options: { webPreferences: { session?: FakeSession } };
    webContents: FakeContents;
    constructor(options: { webPreferences: { session?: FakeSession } }) {
      this.options = options;
      this.webContents = new FakeContents(options.webPreferences.session ?? state.session);
      state.windows.push(this);
      for (const listener of state.appListeners.get('web-contents-created') ?? []) listener({}, this.webContents);
    }
    once() {}
    show() {}
    loadURL(url: string) {
      this.loaded = url;
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    loadFile(path: string) {
      return this.loadURL(`file://${path}`);
    }
    static getAllWindows() {
      return state.windows;
    }
    static fromWebContents(contents: unknown) {
      return state.windows.find((window) => window.webContents === contents) ?? null;
    }
  }
  const electron = {
    app: {
      get isPackaged() {
        return state.isPackaged;
      },
      whenReady: () => Promise.resolve(),
      on: (event: string, listener: Listener) =>
        state.appListeners.set(event, [...(state.appListeners.get(event) ?? []), listener]),
      quit: () => void state.quits++,
    },
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (name: string, handler: (event: unknown, request: unknown) => unknown) => state.ipc.set(name, handler),
    },
    net: { fetch: async (url: string) => new Response(readFileSync(fileURLToPath(url))) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: typeof state.schemes) => (state.schemes = schemes),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
        state.protocolHandlers.set(scheme, handler),
    },
    get session() {
      return { defaultSession: state.session };
    },
    shell: { openExternal: async (url: string) => void state.openedExternally.push(url) },
    utilityProcess: {
      fork: () => {
        const listeners: Listener[] = [];
        return {
          on: (event: string, listener: Listener) => {
            if (event === 'message') listeners.push(listener);
          },
          postMessage: (message: (typeof state.posted)[number]) => {
            state.posted.push(message);
            if (message.type === 'close') {
              if (state.answersClose) setImmediate(() => listeners.forEach((listener) => listener({ type: 'closed' })));
              return;
            }
            for (const listener of listeners)
              listener({ type: 'result', id: message.id, result: { ok: true, value: 1 } });
          },
        };
      },
    },
  };
  function reset() {
    state.appListeners.clear();
    state.protocolHandlers.clear();
    state.ipc.clear();
    state.schemes = [];
    state.posted = [];
    state.answersClose = true;
    state.quits = 0;
    state.openedExternally = [];
    state.windows = [];
    state.session = new FakeSession();
  }
  return { state, electron, reset };
});

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }));
// The demo project is not needed to see how the shell is wired.
vi.mock('../../src/main/pipeline/demo.ts', () => ({ currentOrDemoProjectDir: async () => fake.state.projectDir }));

/** Loads the Electron entry afresh, as a start of the app would, and waits for its window. */
async function startApp(options: { packaged: boolean; rendererUrl?: string }) {
  fake.reset();
  fake.state.isPackaged = options.packaged;
  fake.state.projectDir = join(import.meta.dirname, 'no-project');
  if (options.rendererUrl === undefined) delete process.env.ELECTRON_RENDERER_URL;
  else process.env.ELECTRON_RENDERER_URL = options.rendererUrl;
  vi.resetModules();
  await import('../../src/main/index.ts');
  await vi.waitFor(() => expect(fake.state.windows).toHaveLength(1));
  return fake.state.windows[0]!;
}

/** An IPC call as the window's top frame would send it, showing `url`. */
function callFrom(window: { webContents: { mainFrame: { url: string } } }, url: string) {
  window.webContents.mainFrame.url = url;
  const handler = fake.state.ipc.get(channel('projectStatus'))!;
  return () => handler({ sender: window.webContents, senderFrame: window.webContents.mainFrame }, {});
}

const environment = process.env.ELECTRON_RENDERER_URL;
beforeEach(() => fake.reset());
afterEach(() => {
  if (environment === undefined) delete process.env.ELECTRON_RENDERER_URL;
  else process.env.ELECTRON_RENDERER_URL = environment;
});

describe('the Electron shell, wired', () => {
  it('loads the renderer from app://winnow, a standard secure scheme, never file://', async () => {
    const window = await startApp({ packaged: true });
    expect(window.loaded).toBe('app://winnow/index.html');
    expect(fake.state.schemes).toContainEqual({ scheme: 'app', privileges: { standard: true, secure: true } });
    // Both privileged schemes are registered (a second registerSchemesAsPrivileged call would drop the first).
    expect(fake.state.schemes.map((s) => s.scheme).sort()).toEqual(['app', 'winnow-image']);
    const handler = fake.state.protocolHandlers.get('app')!;
    // Under vitest the entry's ../renderer is src/renderer, which has the page's index.html.
    const page = await handler(new Request('app://winnow/index.html'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect((await handler({ url: 'app://winnow/..%2f..%2fpackage.json', method: 'GET' } as Request)).status).toBe(404);
  });

  it('ignores ELECTRON_RENDERER_URL when packaged', async () => {
    const window = await startApp({ packaged: true, rendererUrl: 'https://evil.example/' });
    expect(window.loaded).toBe('app://winnow/index.html');
  });

  it('uses a loopback dev server unpackaged, and refuses any other', async () => {
    const window = await startApp({ packaged: false, rendererUrl: 'http://localhost:5173/' });
    expect(window.loaded).toBe('http://localhost:5173/');
    expect(callFrom(window, 'http://localhost:5173/#/review')()).toBeInstanceOf(Promise);
    expect(callFrom(window, 'app://winnow/index.html')).toThrow(/untrusted/);
    await expect(startApp({ packaged: false, rendererUrl: 'http://evil.example:5173/' })).rejects.toThrow(
      /not a dev server on this machine/,
    );
  });

  it("denies every permission request, check and device permission on the window's session", async () => {
    const window = await startApp({ packaged: true });
    const session = window.webContents.session;
    expect(window.options.webPreferences.session).toBe(session);
    const permissions = ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'hid', 'usb'];
    for (const permission of permissions) {
      let granted: boolean | undefined;
      session.requestHandler!(window.webContents, permission, (answer: boolean) => (granted = answer), {});
      expect(granted, permission).toBe(false);
      expect(session.checkHandler?.(window.webContents, permission, 'app://winnow', {}), permission).toBe(false);
    }
    for (const deviceType of ['hid', 'usb', 'serial']) {
      expect(session.deviceHandler?.({ deviceType, origin: 'app://winnow', device: {} }), deviceType).toBe(false);
    }
  });

  it("lets the engine be called only from the window's top frame showing the app", async () => {
    const window = await startApp({ packaged: true });
    const result = callFrom(window, 'app://winnow/index.html#/review')();
    expect(await result).toEqual({ ok: true, value: 1 });
    expect(fake.state.posted).toEqual([{ type: 'call', id: 1, method: 'projectStatus', request: {} }]);
    // The same top frame after it was made to show something else.
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'app://evil/index.html',
      'http://localhost:5173/',
    ]) {
      expect(callFrom(window, url), url).toThrow(/untrusted/);
    }
    // A frame that is not the top frame, even showing the app.
    const handler = fake.state.ipc.get(channel('projectStatus'))!;
    expect(() => handler({ sender: window.webContents, senderFrame: { url: 'app://winnow/index.html' } }, {})).toThrow(
      /untrusted/,
    );
    expect(fake.state.posted).toHaveLength(1);
  });

  it('quits only once the engine has closed (a run paused, an import stopped), or after waiting 15 s', async () => {
    /** A quit as Electron starts one: whether a before-quit listener held it back. */
    const quit = () => {
      let prevented = false;
      for (const listener of fake.state.appListeners.get('before-quit') ?? [])
        listener({ preventDefault: () => (prevented = true) });
      return prevented;
    };
    await startApp({ packaged: true });
    expect(quit()).toBe(true);
    expect(fake.state.posted).toEqual([{ type: 'close' }]);
    expect(fake.state.quits).toBe(0);
    await vi.waitFor(() => expect(fake.state.quits).toBe(1));
    // The quit it started again goes through.
    expect(quit()).toBe(false);

    // An engine that never answers keeps the app only so long.
    await startApp({ packaged: true });
    fake.state.answersClose = false;
    vi.useFakeTimers();
    try {
      expect(quit()).toBe(true);
      await vi.advanceTimersByTimeAsync(14_999);
      expect(fake.state.quits).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.state.quits).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('opens no window and hands no link to the system, and does not navigate', async () => {
    const window = await startApp({ packaged: true });
    const links = [
      'https://evil.example/',
      'https://github.com/doyensec/electronegativity',
      'https://huggingface.co@evil.example/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'smb://evil.example/share',
      'javascript:alert(1)',
      'app://winnow/index.html',
    ];
    for (const url of links) {
      expect(window.webContents.windowOpenHandler?.({ url }), url).toEqual({ action: 'deny' });
      let prevented = false;
      for (const listener of window.webContents.listeners.get('will-navigate') ?? []) {
        listener({ preventDefault: () => (prevented = true) }, url);
      }
      expect(prevented, url).toBe(true);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.state.openedExternally).toEqual([]);
  });
});
