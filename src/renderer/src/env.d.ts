/// <reference types="vite/client" />
import type { WinnowTransport } from '../../shared/api.ts';

declare global {
  interface Window {
    /** Present in Electron (the preload), absent in a browser on `winnow serve`. */
    readonly winnow: WinnowTransport | undefined;
  }
}
