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
    expect(report).toEqual({ imported: 5, classesCreated: ['coat', 'shirt'], skipped: [], chunks: 1 });
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
    // bun-1; bun-0's line is bad, so bun-0 waits for the line to be fixed instead of coming in without it.
    expect(report.imported).toBe(1);
    const reasons = report.skipped.map((s) => `${s.path.slice(dir.length + 1)} ${s.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^croissant\/croissant-0.png is labelled "croissant", which is not a class of this project \(classes: bun, bunny\)/,
        ),
        expect.stringMatching(
          /^metadata.jsonl:1 has a bad field seed: .*; bun\/bun-0.png is not imported: fix the line and import again$/,
        ),
        expect.stringMatching(/^metadata.jsonl:2 is not valid JSON/),
        expect.stringMatching(/^metadata.jsonl:3 names bun\/missing.png, which is not an image/),
        expect.stringMatching(/^bun\/real-copy.png is a duplicate of real sample/),
      ]),
    );
    expect(report.skipped).toHaveLength(5);
    expect(listInstances(project.db)).toHaveLength(1);
  });

  it('reports every bad metadata.jsonl line with its number, reason and fix, never crashing or leaving the folder', async () => {
    const dir = join(work, 'synthetic');
    await makeImageFolder(dir, { bun: 13 }, 300);
    // An image beside the folder, which a file_name with ".." would reach.
    await writePng(join(work, 'outside.png'), 999);
    const lines: (string | Buffer)[] = [
      /* 1 */ '\uFEFF{"file_name": "bun/bun-0.png", "prompt": "after a byte-order mark"}',
      /* 2 */ '{"file_name": "bun/bun-1.png", "class": "croissant"}',
      /* 3 */ '{"file_name": "bun/bun-2.png", "label": "bunny", "pseudo_label": "bunny"}',
      /* 4 */ '{"file_name": "../outside.png"}',
      /* 5 */ '{"file_name": "/etc/passwd"}',
      /* 6 */ '{"file_name": "C:\\\\x\\\\y.png"}',
      /* 7 */ '{"file_name": "bun/bun-3.png", "epsilon": -1}',
      /* 8 */ '{"file_name": 42}',
      /* 9 */ '[1, 2]',
      /* 10 */ 'null',
      /* 11 */ '{"file_name": "bun/bun-4.png", "scores": {"contribution": "high"}}',
      /* 12 */ '{"file_name": "bun/bun-5.png", "seed": 1e300}',
      /* 13 */ '{"file_name": "bun/bun-6.png", "epsilon": 1e400}',
      /* 14 */ '{"file_name": "bun/bun-7.png", "gen_params": "fast"}',
      /* 15 */ Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      /* 16 */ '{"file_name": "bun/bun-0.png", "prompt": "again"}',
      /* 17 */ '{"file_name": "bun\\u0000.png"}',
      /* 18 */ '{"file_name": "bun/./bun-8.png", "label": "BUN", "pseudo_label": "bunny"}',
      /* 19 */ '{"file_name": "bun/bun-9.png", "class": "bunny", "pseudo_label": "bun"}',
      /* 20 */ '{"file_name": "bun/bun-10.png", "status": "maybe"}',
      /* 21 */ '{"file_name": "bun/bun-11.png", "label": 7}',
      /* 22 */ '{"__proto__": {"file_name": "bun/bun-12.png"}}',
      /* 23 */ '{"file_name": "bun/bun-12.png", "prompt": "windows line end"}\r',
      /* 24 */ '{"file_name": "bun/../bun/bun-0.png"}',
      /* 25 */ '{"file_name": "bun/"}',
    ];
    writeFileSync(
      join(dir, 'metadata.jsonl'),
      Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from('\n')])),
    );
    const report = await importSynthetic(project, dir);
    const reasons = Object.fromEntries(
      report.skipped.map((s) => [s.path.slice(dir.length + 1).replace('metadata.jsonl:', ''), s.reason]),
    );
    const notImported = (file: string) => new RegExp(`${file} is not imported: .*import again$`);
    expect(reasons).toEqual({
      2: expect.stringMatching(
        /^gives bun\/bun-1.png the class "croissant", which is not a class of this project \(classes: bun, bunny\); bun\/bun-1.png is not imported: correct the line/,
      ),
      3: expect.stringMatching(
        /^gives bun\/bun-2.png the label "bunny", but it lies in the folder "bun"; .*move the file into the folder of its label, or correct the line's label/,
      ),
      4: expect.stringMatching(/^has a file_name "..\/outside.png" that contains a ".." segment/),
      5: expect.stringMatching(/^has a file_name "\/etc\/passwd" that is an absolute path/),
      6: expect.stringMatching(/that is an absolute path/),
      7: expect.stringMatching(/^has a bad field epsilon: .*bun\/bun-3.png is not imported/),
      8: expect.stringMatching(/^has a bad field file_name: .*; fix the line and import again$/),
      9: expect.stringMatching(/^is not a JSON object/),
      10: expect.stringMatching(/^is not a JSON object/),
      11: expect.stringMatching(/^has a bad field scores.contribution: /),
      12: expect.stringMatching(/^has a bad field seed: /),
      13: expect.stringMatching(/^has a bad field epsilon: /),
      14: expect.stringMatching(/^has a bad field gen_params: /),
      15: expect.stringMatching(/^is not UTF-8 text; save metadata.jsonl as UTF-8/),
      16: 'repeats the entry for bun/bun-0.png; the first one is used',
      17: expect.stringMatching(/that contains a NUL character/),
      19: expect.stringMatching(/^gives bun\/bun-9.png the pseudo_label "bun" and the class "bunny", which differ/),
      20: expect.stringMatching(/^has a bad field status: /),
      21: expect.stringMatching(/^has a bad field label: .*bun\/bun-11.png is not imported/),
      22: expect.stringMatching(/^has a bad field file_name: /),
      24: expect.stringMatching(/that contains a ".." segment/),
      25: expect.stringMatching(/that names a folder, not a file/),
    });
    for (const [line, file] of [
      [7, 'bun/bun-3.png'],
      [11, 'bun/bun-4.png'],
      [12, 'bun/bun-5.png'],
      [13, 'bun/bun-6.png'],
      [14, 'bun/bun-7.png'],
      [20, 'bun/bun-10.png'],
    ] as const)
      expect(reasons[line]).toMatch(notImported(file));
    expect(Object.keys(reasons)).toHaveLength(22);
    // In: bun-0 (line 1, after the byte-order mark), bun-8 (line 18), bun-12 (line 23). Nothing from outside.
    const bun = listClasses(project.db).find((c) => c.name === 'bun')?.id;
    const bunny = listClasses(project.db).find((c) => c.name === 'bunny')?.id;
    expect(report.imported).toBe(3);
    expect(
      listInstances(project.db).map((i) => [i.sourcePath?.slice(dir.length + 1), i.prompt, i.labelId, i.classId]),
    ).toEqual([
      ['bun/bun-0.png', 'after a byte-order mark', bun, bun],
      ['bun/bun-12.png', 'windows line end', bun, bun],
      ['bun/bun-8.png', '', bun, bunny],
    ]);
  });

  it('refuses a metadata.jsonl that cannot be read, changing nothing', async () => {
    const dir = join(work, 'synthetic');
    await makeImageFolder(dir, { bun: 1 }, 400);
    mkdirSync(join(dir, 'metadata.jsonl'));
    await expect(importSynthetic(project, dir)).rejects.toThrow(/Cannot read .*metadata.jsonl \(EISDIR\)/);
    expect(listInstances(project.db)).toEqual([]);
  });
});
