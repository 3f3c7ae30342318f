import { join } from 'node:path';
import { type ClassRow, findClass, listClasses } from '../store/classes.ts';
import { type Db, writeTransaction } from '../store/database.ts';
import { insertInstance } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun } from '../store/runs.ts';
import { recordScores } from '../store/scores.ts';
import { setInstanceTags, setNote, tagKey } from '../store/tags.ts';
import { importChunked } from './chunkedImport.ts';
import { type ImageFolderFile, walkImageFolder } from './imageFolder.ts';
import type { ImportOptions, ImportReport, Skipped } from './report.ts';
import {
  METADATA_FILE,
  type MetadataLine,
  readSyntheticMetadata,
  type SyntheticMetadata,
} from './syntheticMetadata.ts';
import { hasStagedMetadata, stageMetadata, takeStagedMetadata, unmatchedMetadata } from '../store/importStaging.ts';

/**
 * The label and the made-for class of a file from its folder and its metadata line: `label` must
 * agree with the folder (Hugging Face's loader reads the column, Winnow's layout the folder, and
 * neither may silently win), `pseudo_label` (or `class`) must name a class of the project.
 */
function labelsOf(
  db: Db,
  file: ImageFolderFile,
  folder: ClassRow,
  meta: { readonly where: string; readonly data: SyntheticMetadata } | undefined,
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

/** Lines of metadata.jsonl staged at a time. */
const METADATA_CHUNK = 5000;

/** What an import stages for a synthetic file: its label, the class it was made for, and its metadata line. */
interface SyntheticRow {
  readonly labelId: number;
  readonly classId: number;
  readonly meta: SyntheticMetadata | null;
}

/**
 * Imports synthetic images made by any tool: an ImageFolder whose folder names are the labels
 * (which must be classes of the project), with optional provenance, pseudo-labels and scores in
 * metadata.jsonl. A file whose metadata line is bad is left out with the line's reason, so that
 * fixing the line and importing again brings it in whole. The import is recorded as a run, so every
 * instance can be traced to it. It reads in chunks and commits at once (chunkedImport.ts); the
 * metadata file is held whole while it runs.
 */
export async function importSynthetic(
  project: Project,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportReport & { runId: number }> {
  const { db } = project;
  const skipped: Skipped[] = [];
  const known = listClasses(db).map((c) => c.name);
  let importId = 0;
  const result = await importChunked<SyntheticRow, { imported: number; runId: number }>(
    project,
    () => walkImageFolder(dir, [METADATA_FILE]),
    {
      async begin(id) {
        importId = id;
        // Staged in the project a chunk of lines at a time, as the images are: never held whole.
        const lines: MetadataLine[] = [];
        const pending = new Set<string>();
        const stage = () =>
          writeTransaction(db, () => {
            pending.clear();
            for (const line of lines.splice(0))
              if (line.kind === 'problem') skipped.push({ path: line.where, reason: line.reason });
              else {
                stageMetadata(db, id, line.name, line.where, line.kind === 'entry' ? line.data : null);
                if (line.kind === 'refused') skipped.push({ path: line.where, reason: line.reason });
              }
          });
        const seen = (name: string) => pending.has(name) || hasStagedMetadata(db, id, name);
        for await (const line of readSyntheticMetadata(join(dir, METADATA_FILE), seen)) {
          lines.push(line);
          if ('name' in line) pending.add(line.name);
          if (lines.length >= METADATA_CHUNK) stage();
        }
        stage();
      },
      rowOf(file) {
        const folder = findClass(db, file.label);
        const staged = takeStagedMetadata(db, importId, file.relativePath);
        if (folder === undefined)
          return {
            path: file.path,
            reason: `is labelled "${file.label}", which is not a class of this project (classes: ${known.join(', ') || 'none yet'}); import real images of that class first, or rename the folder`,
          };
        if (staged !== undefined && staged.data === null) return null; // its bad line is reported
        const meta = staged && { where: staged.where, data: staged.data as SyntheticMetadata };
        const resolved = labelsOf(db, file, folder, meta, known);
        if ('reason' in resolved) return resolved;
        return { row: { labelId: resolved.label.id, classId: resolved.madeFor.id, meta: meta?.data ?? null } };
      },
      commit() {
        const runId = createRun(db, 'import', { dir });
        return {
          write({ image, path, row: { labelId, classId, meta } }) {
            const instanceId = insertInstance(db, {
              imageHash: image.hash,
              classId,
              labelId,
              source: 'imported',
              sourcePath: path,
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
            // Tags are one per spelling without case, as the review's tagging keeps them.
            const tags = [...new Map((meta?.tags ?? []).map((t) => [tagKey(t), t])).values()];
            if (tags.length > 0) setInstanceTags(db, instanceId, tags);
            if (meta?.note) setNote(db, instanceId, meta.note);
            const scores = Object.entries(meta?.scores ?? {});
            if (scores.length > 0)
              recordScores(
                db,
                scores.map(([kind, value]) => ({ instanceId, kind, value, runId, roundIndex: null })),
              );
          },
          finish(imported) {
            for (const { fileName, where } of unmatchedMetadata(db, importId))
              skipped.push({ path: where, reason: `names ${fileName}, which is not an image in ${dir}` });
            finishRun(db, runId, 'done');
            return { imported, runId };
          },
        };
      },
    },
    options,
  );
  return {
    imported: result.imported,
    classesCreated: [],
    skipped: [...skipped, ...result.skipped],
    chunks: result.chunks,
    runId: result.runId,
  };
}
