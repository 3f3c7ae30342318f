import { join } from 'node:path';
import { type ClassRow, findClass, listClasses } from '../store/classes.ts';
import { type Db, writeTransaction } from '../store/database.ts';
import { recordImage } from '../store/images.ts';
import { insertInstance } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun } from '../store/runs.ts';
import { recordScores, type ScoreEntry } from '../store/scores.ts';
import { type ImageFolderFile, scanImageFolder } from './imageFolder.ts';
import { dropDuplicates, ingestFiles } from './ingest.ts';
import type { ImportProgress, ImportReport, Skipped } from './report.ts';
import { METADATA_FILE, type MetadataEntry, readSyntheticMetadata } from './syntheticMetadata.ts';

/**
 * The label and the made-for class of a file from its folder and its metadata line: `label` must
 * agree with the folder (Hugging Face's loader reads the column, Winnow's layout the folder, and
 * neither may silently win), `pseudo_label` (or `class`) must name a class of the project.
 */
function labelsOf(
  db: Db,
  file: ImageFolderFile,
  folder: ClassRow,
  meta: MetadataEntry | undefined,
  known: readonly string[],
): { label: ClassRow; madeFor: ClassRow } | Skipped {
  if (meta === undefined) return { label: folder, madeFor: folder };
  const { label, pseudo_label: pseudoLabel, class: legacyClass } = meta.data;
  if (label !== undefined && findClass(db, label)?.id !== folder.id) {
    return {
      path: meta.where,
      reason: `gives ${file.relativePath} the label "${label}", but it lies in the folder "${file.label}"; ${file.relativePath} is not imported: move the file into the folder of its label, or correct the line's label, and import again`,
    };
  }
  if (
    pseudoLabel !== undefined &&
    legacyClass !== undefined &&
    findClass(db, pseudoLabel)?.id !== findClass(db, legacyClass)?.id
  ) {
    return {
      path: meta.where,
      reason: `gives ${file.relativePath} the pseudo_label "${pseudoLabel}" and the class "${legacyClass}", which differ; ${file.relativePath} is not imported: keep one of them and import again`,
    };
  }
  const madeForName = pseudoLabel ?? legacyClass;
  if (madeForName === undefined) return { label: folder, madeFor: folder };
  const madeFor = findClass(db, madeForName);
  if (madeFor === undefined) {
    return {
      path: meta.where,
      reason: `gives ${file.relativePath} the ${pseudoLabel === undefined ? 'class' : 'pseudo_label'} "${madeForName}", which is not a class of this project (classes: ${known.join(', ')}); ${file.relativePath} is not imported: correct the line, or import real images of that class first, and import again`,
    };
  }
  return { label: folder, madeFor };
}

/**
 * Imports synthetic images made by any tool: an ImageFolder whose folder names are the labels
 * (which must be classes of the project), with optional provenance, pseudo-labels and scores in
 * metadata.jsonl. A file whose metadata line is bad is left out with the line's reason, so that
 * fixing the line and importing again brings it in whole. The import is recorded as a run, so every
 * instance can be traced to it.
 */
export async function importSynthetic(
  project: Project,
  dir: string,
  onProgress?: ImportProgress,
): Promise<ImportReport & { runId: number }> {
  const { db } = project;
  const scan = await scanImageFolder(dir, [METADATA_FILE]);
  const metadata = await readSyntheticMetadata(join(dir, METADATA_FILE));
  const skipped: Skipped[] = [...scan.skipped, ...metadata.skipped];

  const known = listClasses(db).map((c) => c.name);
  const files: ImageFolderFile[] = [];
  const labels = new Map<string, { label: ClassRow; madeFor: ClassRow }>();
  for (const file of scan.files) {
    const folder = findClass(db, file.label);
    if (folder === undefined) {
      skipped.push({
        path: file.path,
        reason: `is labelled "${file.label}", which is not a class of this project (classes: ${known.join(', ') || 'none yet'}); import real images of that class first, or rename the folder`,
      });
      continue;
    }
    if (metadata.refused.has(file.relativePath)) continue; // its bad line is reported
    const resolved = labelsOf(db, file, folder, metadata.entries.get(file.relativePath), known);
    if ('reason' in resolved) {
      skipped.push(resolved);
      continue;
    }
    labels.set(file.relativePath, resolved);
    files.push(file);
  }
  const scanned = new Set(scan.files.map((f) => f.relativePath));
  for (const [name, entry] of metadata.entries) {
    if (!scanned.has(name)) {
      skipped.push({ path: entry.where, reason: `names ${name}, which is not an image in ${dir}` });
    }
  }
  const ingested = await ingestFiles(files, project.images, onProgress);
  skipped.push(...ingested.skipped);

  return writeTransaction(db, () => {
    const runId = createRun(db, 'import', { dir });
    const { fresh, skipped: duplicates } = dropDuplicates(db, ingested.ingested);
    skipped.push(...duplicates);
    const scores: ScoreEntry[] = [];
    for (const { item, image } of fresh) {
      const meta = metadata.entries.get(item.relativePath)?.data;
      const resolved = labels.get(item.relativePath);
      if (resolved === undefined) continue; // left out above
      const { label, madeFor } = resolved;
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
