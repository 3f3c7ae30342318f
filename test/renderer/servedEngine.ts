import { vi } from 'vitest';

/**
 * A fake `winnow serve` for the served page under happy-dom: `fetch` answers each API method from
 * `answers` (recording the calls) and the page's probe with 200, or fails as a stopped server does
 * while `online` is false; the event stream never sends anything.
 */
export function stubServedEngine(answers: Record<string, () => unknown>): { online: boolean; calls: string[] } {
  const server = { online: true, calls: [] as string[] };
  vi.stubGlobal('fetch', async (url: string, init?: { method?: string }) => {
    if (!server.online) throw new TypeError('Failed to fetch');
    if (init?.method === 'HEAD') return new Response(null, { status: 200 });
    const method = url.replace('/api/', '');
    server.calls.push(method);
    return new Response(JSON.stringify({ ok: true, value: answers[method]!() }), { status: 200 });
  });
  vi.stubGlobal(
    'EventSource',
    class {
      close() {}
    },
  );
  return server;
}
