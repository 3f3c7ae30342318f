import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { listClasses } from '../../src/main/store/classes.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { scoreHistory } from '../../src/main/store/scores.ts';
import { makeImageFolder, tempDir, writePng } from '../helpers/fixtures.ts';

let project: Project;
let work: string;

beforeEach(() => {
  work = tempDir();
  project = initProject(join(work, 'project'));
  return () => project.close();
});

describe('import real', () => {
  it('imports an ImageFolder, creates its classes and stores content-addressed PNGs', async () => {
    await makeImageFolder(join(work, 'real'), { shirt: 3, coat: 2 });
    const report = await importReal(project, join(work, 'real'), 'val');
    expect(report).toEqual({ imported: 5, classesCreated: ['coat', 'shirt'], skipped: [] });
    expect(listClasses(project.db).map((c) => c.name)).toEqual(['coat', 'shirt']);
    const samples = listRealSamples(project.db, 'val');
    expect(samples).toHaveLength(5);
    const stored = await sharp(project.images.pathOf(samples[0]?.imageHash ?? '')).metadata();
    expect(stored).toMatchObject({ format: 'png', width: 28, height: 28 });
  });

  it('converts other formats to PNG, and skips corrupt, non-image and duplicate files with reasons', async () => {
    const real = join(work, 'real');
    await makeImageFolder(real, { shirt: 2 });
    await writePng(join(real, 'shirt', 'photo.jpg'), 99, 'jpeg');
    writeFileSync(join(real, 'shirt', 'truncated.png'), Buffer.from('\x89PNG\r\n\x1a\n not really'));
    writeFileSync(join(real, 'shirt', 'notes.txt'), 'not an image');
    writeFileSync(join(real, 'README.md'), 'stray file at the root');
    copyFileSync(join(real, 'shirt', 'shirt-0.png'), join(real, 'shirt', 'copy.png'));
    const report = await importReal(project, real, 'train');
    expect(report.imported).toBe(3);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path.slice(real.length + 1), s.reason]));
    expect(reasons['README.md']).toMatch(/not inside a class folder/);
    expect(reasons['shirt/notes.txt']).toMatch(/not an image file/);
    expect(reasons['shirt/truncated.png']).toMatch(/not a readable image/);
    expect(reasons['shirt/shirt-0.png'] ?? reasons['shirt/copy.png']).toMatch(/duplicate of .* in the same import/);

    const again = await importReal(project, real, 'test');
    expect(again.imported).toBe(0);
    // The three imported images and the copy of one of them.
    expect(again.skipped.filter((s) => /duplicate of real sample/.test(s.reason))).toHaveLength(4);
    expect(listRealSamples(project.db, 'test')).toHaveLength(0);
  });

  it('fails with a clear error for a folder that cannot be read, changing nothing', async () => {
    await expect(importReal(project, join(work, 'missing'), 'train')).rejects.toThrow(
      /Cannot read the folder .*missing \(ENOENT\)/,
    );
    mkdirSync(join(work, 'empty'));
    await expect(importReal(project, join(work, 'empty'), 'train')).rejects.toThrow(/holds no class folders/);
    expect(listClasses(project.db)).toEqual([]);
  });

  it('skips folders whose names cannot be class names', async () => {
    await makeImageFolder(join(work, 'real'), { 'bad:name': 1, ok: 1 });
    const report = await importReal(project, join(work, 'real'), 'train');
    expect(report.imported).toBe(1);
    expect(report.skipped[0]?.reason).toMatch(/not a valid class name/);
  });
});

describe('import synthetic', () => {
  beforeEach(async () => {
    await makeImageFolder(join(work, 'real'), { bun: 2, bunny: 2 });
    await importReal(project, join(work, 'real'), 'train');
  });

  it('reads pseudo-labels from folder names and provenance and scores from metadata.jsonl', async () => {
    const dir = join(work, 'synthetic');
    await makeImageFolder(dir, { bun: 2 }, 100);
    const lines = [
      {
        file_name: 'bun/bun-0.png',
        prompt: 'a photo of a bun',
        seed: 7,
        generator: 'sd-turbo',
        epsilon: 0.25,
        scores: { contribution: -0.2 },
      },
      {
        file_name: 'bun/bun-1.png',
        prompt: 'a bun on a bakery shelf',
        seed: 8,
        class: 'bunny',
        status: 'accepted',
        override: 'rejected',
      },
    ];
    writeFileSync(join(dir, 'metadata.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const report = await importSynthetic(project, dir);
    expect(report.skipped).toEqual([]);
    const [a, b] = listInstances(project.db);
    const bun = listClasses(project.db).find((c) => c.name === 'bun')?.id;
    const bunny = listClasses(project.db).find((c) => c.name === 'bunny')?.id;
    expect(a).toMatchObject({
      labelId: bun,
      classId: bun,
      prompt: 'a photo of a bun',
      seed: 7,
      generatorId: 'sd-turbo',
      epsilon: 0.25,
      contribution: -0.2,
      source: 'imported',
      runId: report.runId,
    });
    expect(b).toMatchObject({
      labelId: bun,
      classId: bunny,
      status: 'accepted',
      override: 'rejected',
      contribution: null,
    });
    expect(scoreHistory(project.db, a?.id ?? 0).map((s) => [s.kind, s.value])).toEqual([['contribution', -0.2]]);
  });

  it('skips unknown classes, bad metadata lines and duplicates, and imports the rest', async () => {
    const dir = join(work, 'synthetic');
    await makeImageFolder(dir, { bun: 2, croissant: 1 }, 200);
    copyFileSync(join(work, 'real', 'bun', 'bun-0.png'), join(dir, 'bun', 'real-copy.png'));
    writeFileSync(
      join(dir, 'metadata.jsonl'),
      ['{"file_name": "bun/bun-0.png", "seed": "seven"}', 'not json', '{"file_name": "bun/missing.png"}', ''].join(
        '\n',
      ),
    );
    const report = await importSynthetic(project, dir);
    expect(report.imported).toBe(2);
    const reasons = report.skipped.map((s) => `${s.path.slice(dir.length + 1)} ${s.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^croissant\/croissant-0.png is labelled "croissant", which is not a class of this project \(classes: bun, bunny\)/,
        ),
        expect.stringMatching(/^metadata.jsonl:1 has a bad field seed/),
        expect.stringMatching(/^metadata.jsonl:2 is not valid JSON/),
        expect.stringMatching(/^metadata.jsonl names bun\/missing.png, which is not an image/),
        expect.stringMatching(/^bun\/real-copy.png is a duplicate of real sample/),
      ]),
    );
    expect(report.skipped).toHaveLength(5);
    expect(listInstances(project.db)).toHaveLength(2);
  });
});
