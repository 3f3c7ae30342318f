/// <reference types="vite/client" />
import type { WinnowApi } from '../../shared/api.ts';

declare global {
  interface Window {
    readonly winnow: WinnowApi;
  }
}
