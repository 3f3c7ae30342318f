import { join } from 'node:path';
import { findClass, listClasses } from '../store/classes.ts';
import { writeTransaction } from '../store/database.ts';
import { recordImage } from '../store/images.ts';
import { insertInstance } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun } from '../store/runs.ts';
import { recordScores, type ScoreEntry } from '../store/scores.ts';
import { type ImageFolderFile, scanImageFolder } from './imageFolder.ts';
import { dropDuplicates, ingestFiles } from './ingest.ts';
import type { ImportReport, Skipped } from './report.ts';
import { METADATA_FILE, readSyntheticMetadata } from './syntheticMetadata.ts';

/**
 * Imports synthetic images made by any tool: an ImageFolder whose folder names are the
 * pseudo-labels (which must be classes of the project), with optional provenance and scores in
 * metadata.jsonl. The import is recorded as a run, so every instance can be traced to it.
 */
export async function importSynthetic(project: Project, dir: string): Promise<ImportReport & { runId: number }> {
  const { db } = project;
  const scan = await scanImageFolder(dir, [METADATA_FILE]);
  const metadata = await readSyntheticMetadata(join(dir, METADATA_FILE));
  const skipped: Skipped[] = [...scan.skipped, ...metadata.skipped];

  const known = listClasses(db).map((c) => c.name);
  const files: ImageFolderFile[] = [];
  for (const file of scan.files) {
    if (findClass(db, file.label) === undefined) {
      skipped.push({
        path: file.path,
        reason: `is labelled "${file.label}", which is not a class of this project (classes: ${known.join(', ') || 'none yet'}); import real images of that class first, or rename the folder`,
      });
    } else {
      files.push(file);
    }
  }
  const scanned = new Set(scan.files.map((f) => f.relativePath));
  for (const name of metadata.entries.keys()) {
    if (!scanned.has(name)) {
      skipped.push({ path: join(dir, METADATA_FILE), reason: `names ${name}, which is not an image in ${dir}` });
    }
  }
  const ingested = await ingestFiles(files, project.images);
  skipped.push(...ingested.skipped);

  return writeTransaction(db, () => {
    const runId = createRun(db, 'import', { dir });
    const { fresh, skipped: duplicates } = dropDuplicates(db, ingested.ingested);
    skipped.push(...duplicates);
    const scores: ScoreEntry[] = [];
    for (const { item, image } of fresh) {
      const meta = metadata.entries.get(item.relativePath);
      const label = findClass(db, item.label);
      if (label === undefined) continue; // filtered above
      const madeFor = meta?.class === undefined ? label : (findClass(db, meta.class) ?? label);
      recordImage(db, image);
      const instanceId = insertInstance(db, {
        imageHash: image.hash,
        classId: madeFor.id,
        labelId: label.id,
        source: 'imported',
        sourcePath: item.path,
        prompt: meta?.prompt ?? '',
        negativePrompt: meta?.negative_prompt ?? '',
        seed: meta?.seed ?? null,
        epsilon: meta?.epsilon ?? 0,
        perturbation: null,
        generatorId: meta?.generator ?? '',
        genParams: JSON.stringify(meta?.gen_params ?? {}),
        runId,
        roundIndex: null,
        status: meta?.status ?? 'pending',
        override: meta?.override ?? null,
      });
      for (const [kind, value] of Object.entries(meta?.scores ?? {})) {
        scores.push({ instanceId, kind, value, runId, roundIndex: null });
      }
    }
    recordScores(db, scores);
    finishRun(db, runId, 'done');
    return { imported: fresh.length, classesCreated: [], skipped, runId };
  });
}
