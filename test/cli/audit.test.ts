import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

describe('winnow audit', () => {
  it('draws the stratified sample per class and prints the population it speaks for', async () => {
    const work = tempDir();
    const env = { ...process.env, WINNOW_HOME: join(work, 'home'), WINNOW_PROJECT: '' };
    const winnow = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, '-p', join(work, 'p'), ...args], { env, encoding: 'utf8' });
    await makeImageFolder(join(work, 'real'), { bun: 2, bunny: 2 }, 500);
    await makeImageFolder(join(work, 'synthetic'), { bun: 5, bunny: 3 }, 1);
    spawnSync(process.execPath, [BIN, 'init', join(work, 'p')], { env });
    winnow('import', 'real', join(work, 'real'));
    winnow('import', 'synthetic', join(work, 'synthetic'));

    const json = winnow('audit', '--population', 'all', '--per-class', '2', '--json');
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const { sample, summary } = JSON.parse(json.stdout);
    const [bun, bunny] = summary.classes.map((c: { classId: number }) => c.classId);
    expect(sample.filter((s: { labelId: number }) => s.labelId === bun)).toHaveLength(2);
    expect(sample.filter((s: { labelId: number }) => s.labelId === bunny)).toHaveLength(2);
    expect(summary.classes.map((c: { name: string; size: number }) => [c.name, c.size])).toEqual([
      ['bun', 5],
      ['bunny', 3],
    ]);
    expect(summary.stratified.size).toBe(8);
    // Nothing is accepted yet: the exported population is empty.
    expect(winnow('audit').stdout).toMatch(/Verdicts on the exported population \(0 instances\)/);
  });
});
