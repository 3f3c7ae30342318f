import { WinnowError } from '../errors.ts';
import type { Skipped } from '../pipeline/report.ts';
import type { ProjectStatus } from '../../shared/api.ts';

/** Exit codes: the CLI's contract with scripts. */
export const EXIT = { ok: 0, failed: 1, usage: 2, skipped: 3 } as const;

export function printSkipped(skipped: readonly Skipped[]): void {
  if (skipped.length === 0) return;
  console.error(`Skipped ${skipped.length} ${skipped.length === 1 ? 'entry' : 'entries'}:`);
  for (const s of skipped) console.error(`  ${s.path} ${s.reason}`);
}

/**
 * Prints a failure for a person: a WinnowError as its message and fix; a refusal by the system (a
 * Node errno error such as ENOENT or EACCES, or SQLite's SQLITE_FULL…) as its message; anything else
 * is a bug in Winnow, printed as one line and a hint, with the stack only under WINNOW_DEBUG=1.
 */
export function printError(error: unknown, env: NodeJS.ProcessEnv = process.env): void {
  if (error instanceof WinnowError) {
    console.error(`error: ${error.message}`);
    if (error.fix) console.error(`  fix: ${error.fix}`);
    return;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  if (env.WINNOW_DEBUG) {
    console.error(e.stack ?? e.message);
  } else if (isSystemError(e)) {
    console.error(`error: ${e.message}`);
  } else {
    console.error(`error: ${e.message.split('\n')[0]}`);
    console.error('  This is a bug in Winnow: rerun with WINNOW_DEBUG=1 for the stack, and report it.');
  }
}

/** An error the operating system or SQLite raised (ENOENT, EACCES, SQLITE_FULL, …), not a bug in Winnow. */
function isSystemError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(E[A-Z]+|SQLITE_[A-Z_]+)$/.test(code);
}

export function formatSummary(dir: string, s: ProjectStatus): string {
  const header = ['class', 'real train', 'val', 'test', 'synthetic pending', 'accepted', 'rejected', 'overridden'];
  const rows = s.classes.map((c) => [
    c.name,
    c.real.train,
    c.real.val,
    c.real.test,
    c.synthetic.pending,
    c.synthetic.accepted,
    c.synthetic.rejected,
    c.synthetic.overridden,
  ]);
  const total = (pick: (c: (typeof s.classes)[number]) => number) => s.classes.reduce((sum, c) => sum + pick(c), 0);
  rows.push([
    'total',
    total((c) => c.real.train),
    total((c) => c.real.val),
    total((c) => c.real.test),
    total((c) => c.synthetic.pending),
    total((c) => c.synthetic.accepted),
    total((c) => c.synthetic.rejected),
    total((c) => c.synthetic.overridden),
  ]);
  const table = formatTable([header, ...rows.map((r) => r.map(String))]);
  return [
    `Project ${s.name} at ${dir} (schema v${s.schemaVersion})`,
    `${s.classes.length} classes, ${s.runs} runs, ${s.exports} exports`,
    '',
    s.classes.length > 0 ? table : 'No classes yet: import real images with `winnow import real <dir>`.',
    ...formatUnfinishedRuns(s.unfinishedRuns),
  ].join('\n');
}

/** Rows of cells as aligned columns: the first left-aligned (names), the rest right-aligned (numbers). */
export function formatTable(cells: readonly (readonly string[])[]): string {
  const widths = (cells[0] ?? []).map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** "Run 3 (loop) interrupted, started 2026-…: its process … Resume it: winnow run --resume". */
function formatUnfinishedRuns(runs: ProjectStatus['unfinishedRuns']): string[] {
  if (runs.length === 0) return [];
  return [
    '',
    'Unfinished runs:',
    ...runs.map(
      (r) =>
        `  run ${r.id} (${r.kind}) ${r.status}, started ${r.startedAt}` +
        (r.reason ? `: ${r.reason}` : '') +
        (r.resumable ? '. Resume it: winnow run --resume' : ''),
    ),
  ];
}

/** "fmnist-ddpm@3c8a… on cpu (why not the GPU)" or "… on webgpu (the adapter)". */
export function describeProvider(model: { id: string; provider: string; providerReason: string }): string {
  return `${model.id} on ${model.provider} (${model.providerReason})`;
}
