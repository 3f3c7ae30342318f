// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';

// In Electron a request crosses the preload's contextBridge and IPC, which copy it by the structured
// clone algorithm: a Pinia store's state is a reactive Proxy, which that algorithm refuses ("An object
// could not be cloned"). This fake transport copies each request the same way, as the preload does.
const calls: [string, unknown][] = [];
const fake = new Proxy(
  { onEvent: () => () => {} },
  {
    get: (target, method: string) =>
      method in target
        ? target[method as keyof typeof target]
        : async (request: unknown) => {
            calls.push([method, structuredClone(request)]);
            return { ok: true, value: { written: [] } };
          },
  },
) as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useExportStore } = await import('../../src/renderer/src/stores/exports.ts');

describe('requests over Electron IPC', () => {
  it("go as plain data, so a store's reactive state can be sent", async () => {
    setActivePinia(createPinia());
    const exports = useExportStore();
    exports.labelIds = [2, 5];
    await exports.run();
    expect(exports.error).toBeNull();
    expect(calls).toEqual([
      [
        'exportDataset',
        {
          name: exports.name,
          status: 'accepted',
          formats: ['imagefolder', 'csv', 'jsonl', 'coco'],
          labelIds: [2, 5],
        },
      ],
    ]);
  });
});
