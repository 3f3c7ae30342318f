import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The GPU benchmark's CPU mode, as CI runs it: one command, every figure measured, nothing fatal
// when the PyTorch peer cannot run here.
describe('bench/gpu.ts --cpu-only --quick', () => {
  it('measures generation, Stable Diffusion, scoring and training on the CPU and writes them', () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-gpu-bench-test-'));
    const bench = resolve(import.meta.dirname, '../../bench/gpu.ts');
    const result = spawnSync(process.execPath, [bench, '--cpu-only', '--quick', '--out', out], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(out, 'gpu.json'), 'utf8')) as {
      runs: {
        provider: string;
        generator: { batch: number; imagesPerSecond: number }[];
        sd: { batch: number; imagesPerSecond: number }[];
        scoringPerSecond: number;
        trainingSeconds: number;
      }[];
      peer: { available: boolean; reason?: string };
    };
    expect(written.runs.map((r) => r.provider)).toEqual(['cpu']);
    const [cpu] = written.runs;
    expect(cpu!.generator.map((g) => g.batch)).toEqual([8]);
    expect(cpu!.generator[0]!.imagesPerSecond).toBeGreaterThan(0);
    expect(cpu!.sd.map((g) => g.batch)).toEqual([1, 4]);
    expect(cpu!.sd.every((g) => g.imagesPerSecond > 0)).toBe(true);
    expect(cpu!.scoringPerSecond).toBeGreaterThan(0);
    expect(cpu!.trainingSeconds).toBeGreaterThan(0);
    expect(written.peer.available || typeof written.peer.reason === 'string').toBe(true);
    expect(readFileSync(join(out, 'gpu.md'), 'utf8')).toMatch(/^\| cpu \(WINNOW_EXECUTION_PROVIDER=cpu\) \| /m);
  });
});
