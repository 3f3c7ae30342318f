import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { importChunked } from '../../src/main/pipeline/chunkedImport.ts';
import { walkImageFolder } from '../../src/main/pipeline/imageFolder.ts';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { dropStaleImports, stagedCount } from '../../src/main/store/importStaging.ts';
import { writeTransaction } from '../../src/main/store/database.ts';
import { HEARTBEAT_INTERVAL_MS } from '../../src/main/store/leases.ts';
import { LEASE_TIMEOUT_MS } from '../../src/main/store/processLiveness.ts';
import { initProject, openProject, type Project } from '../../src/main/store/project.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { scoreHistory } from '../../src/main/store/scores.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

/** A project with real bun and bunny images, and a synthetic folder of 50 with metadata for some. */
async function fixture(): Promise<{ project: Project; synthetic: string }> {
  const work = tempDir();
  const project = initProject(join(work, 'p'));
  await makeImageFolder(join(work, 'real'), { bun: 2, bunny: 2 }, 1000);
  await importReal(project, join(work, 'real'), 'train');
  const synthetic = join(work, 'synthetic');
  await makeImageFolder(synthetic, { bun: 25, bunny: 24 }, 1);
  // The last file (in walk order) repeats the first: a duplicate found in another chunk.
  copyFileSync(join(synthetic, 'bun', 'bun-0.png'), join(synthetic, 'bunny', 'zz-copy.png'));
  writeFileSync(
    join(synthetic, 'metadata.jsonl'),
    [
      '{"file_name": "bun/bun-3.png", "prompt": "a bun", "scores": {"quality": 0.25}}',
      '{"file_name": "bunny/bunny-7.png", "pseudo_label": "bun", "seed": 7}',
    ].join('\n'),
  );
  return { project, synthetic };
}

/** What an import made, independent of ids and times. */
function contents(project: Project) {
  return listInstances(project.db).map((i) => ({
    hash: i.imageHash,
    file: i.sourcePath?.split('/').slice(-2).join('/'),
    label: i.labelId,
    madeFor: i.classId,
    prompt: i.prompt,
    seed: i.seed,
    scores: scoreHistory(project.db, i.id).map((s) => [s.kind, s.value]),
  }));
}

describe('an import in chunks', () => {
  it('reads 50 images in chunks of 7 and makes exactly what one chunk makes, duplicates across chunks included', async () => {
    const one = await fixture();
    const whole = await importSynthetic(one.project, one.synthetic, { chunkSize: 1000 });
    const many = await fixture();
    const progress: [number, number, string][] = [];
    const chunked = await importSynthetic(many.project, many.synthetic, {
      chunkSize: 7,
      onProgress: (done, total, stage) => progress.push([done, total, stage]),
    });
    expect(whole.chunks).toBe(1);
    // 50 files: 49 distinct images, the copy found a duplicate of bun-0 staged six chunks before.
    expect(chunked.chunks).toBe(Math.ceil(50 / 7));
    expect(chunked.imported).toBe(49);
    expect(whole.imported).toBe(49);
    expect(chunked.skipped).toEqual([
      {
        path: join(many.synthetic, 'bunny', 'zz-copy.png'),
        reason: `is a duplicate of ${join(many.synthetic, 'bun', 'bun-0.png')} in the same import`,
      },
    ]);
    expect(contents(many.project)).toEqual(contents(one.project));
    expect(contents(many.project).find((c) => c.file === 'bun/bun-3.png')?.scores).toEqual([['quality', 0.25]]);
    // Reading reports every file and ends at the total; the commit then writes the 49 staged.
    expect(progress.filter(([, , s]) => s === 'read').at(-1)).toEqual([50, 50, 'read']);
    expect(progress.filter(([, , s]) => s === 'commit').at(-1)).toEqual([49, 49, 'commit']);
    expect(stagedCount(many.project.db, 1)).toBe(0);
  });

  it('leaves nothing visible or staged when it fails after some chunks, and imports whole when run again', async () => {
    const { project, synthetic } = await fixture();
    const put = project.images.put.bind(project.images);
    let stored = 0;
    project.images.put = async (png) => {
      if (++stored > 20) throw new Error('the image store failed (test)');
      return put(png);
    };
    await expect(importSynthetic(project, synthetic, { chunkSize: 7 })).rejects.toThrow(/image store failed/);
    expect(listInstances(project.db)).toEqual([]);
    expect(listRuns(project.db).filter((r) => r.kind === 'import')).toEqual([]);
    expect(stagedCount(project.db, 1)).toBe(0);
    project.images.put = put;
    expect((await importSynthetic(project, synthetic, { chunkSize: 7 })).imported).toBe(49);
    expect(listInstances(project.db)).toHaveLength(49);
  });

  it('keeps beating while a step outlasts the liveness timeout, so another open does not drop it', async () => {
    const { project, synthetic } = await fixture();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      let begun!: () => void;
      const beginning = new Promise<void>((resolve) => (begun = resolve));
      let release!: () => void;
      const stalled = new Promise<void>((resolve) => (release = resolve));
      const importing = importChunked(project, () => walkImageFolder(synthetic), {
        // A metadata step (or a chunk on a slow disk) that takes longer than LEASE_TIMEOUT_MS.
        begin: async () => {
          begun();
          await stalled;
        },
        rowOf: () => ({ row: {} }),
        commit: () => ({ write: () => undefined, finish: (imported) => ({ imported }) }),
      });
      await beginning;
      vi.advanceTimersByTime(LEASE_TIMEOUT_MS + 2 * HEARTBEAT_INTERVAL_MS);
      // Another process opens the project: its clean-up drops pending imports that look dead.
      const other = openProject(project.dir);
      expect(writeTransaction(other.db, () => dropStaleImports(other.db))).toEqual([]);
      expect(other.db.prepare('SELECT count(*) AS n FROM pending_imports').get()).toEqual({ n: 1 });
      other.close();
      release();
      expect((await importing).imported).toBe(49);
    } finally {
      vi.useRealTimers();
      project.close();
    }
  });
});
