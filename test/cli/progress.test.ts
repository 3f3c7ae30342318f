import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type BarStream, progressBar, stagedProgress } from '../../src/main/cli/progress.ts';

/** A stream that says it is a terminal and keeps what was drawn on it. */
function fakeTerminal(): BarStream & { text(): string } {
  const chunks: string[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return Object.assign(stream, { text: () => chunks.join('') });
}

describe('the run progress bar', () => {
  it('restarts under each stage label and advances past 0%, as a run reports its stages', async () => {
    const terminal = fakeTerminal();
    const bar = progressBar('run', terminal);
    // What the loop reports: each stage counts from 0 to its total.
    for (const [stage, total] of [
      ['prepare', 1],
      ['round 1/2 generate', 8],
      ['round 1/2 embed', 4],
      ['round 2/2 generate', 8],
    ] as const) {
      bar.stage(stage);
      for (let done = 0; done <= total; done++) bar.update(done, total);
    }
    bar.stop();
    await new Promise((r) => setImmediate(r));
    const drawn = terminal.text();
    for (const stage of ['prepare', 'round 1/2 generate', 'round 1/2 embed', 'round 2/2 generate'])
      expect(drawn).toMatch(new RegExp(`${stage} \\[[^\\]]*\\] 100% \\| \\d+/\\d+`));
    expect(drawn).toMatch(/round 2\/2 generate \[[^\]]*\] 100% \| 8\/8/);
  });

  it('writes one line per stage and no bar when stderr is not a terminal', async () => {
    const chunks: string[] = [];
    const pipe = new PassThrough();
    pipe.on('data', (c: Buffer) => chunks.push(c.toString()));
    const bar = progressBar('run', pipe);
    bar.stage('round 1/1 generate');
    bar.update(3, 8);
    bar.stage('round 1/1 embed');
    bar.stop();
    await new Promise((r) => setImmediate(r));
    expect(chunks.join('')).toBe('round 1/1 generate\nround 1/1 embed\n');
  });
});

describe('the progress of a command in stages (import, export, audit)', () => {
  it('draws a bar with an ETA per stage in a terminal, and nothing elsewhere', async () => {
    const terminal = fakeTerminal();
    const progress = stagedProgress('import', terminal);
    for (let done = 0; done <= 50; done += 10) progress.onProgress(done, 50, 'read');
    for (let done = 0; done <= 40; done += 20) progress.onProgress(done, 40, 'commit');
    progress.stop();
    const pipe = new PassThrough();
    const written: string[] = [];
    pipe.on('data', (c: Buffer) => written.push(c.toString()));
    const quiet = stagedProgress('import', pipe);
    quiet.onProgress(1, 2, 'read');
    quiet.stop();
    await new Promise((r) => setImmediate(r));
    expect(terminal.text()).toMatch(/import: read \[[^\]]*\] 100% \| 50\/50 \| ETA/);
    expect(terminal.text()).toMatch(/import: commit \[[^\]]*\] 100% \| 40\/40 \| ETA/);
    expect(written.join('')).toBe('');
  });
});
