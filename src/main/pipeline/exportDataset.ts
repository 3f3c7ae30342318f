import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { WinnowError } from '../errors.ts';
import { listClasses } from '../store/classes.ts';
import { currentVerdicts } from '../store/curation.ts';
import { recordExport } from '../store/exports.ts';
import { effectiveStatus, type InstanceStatus, listInstances } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { latestScores, scoreKinds } from '../store/scores.ts';
import { METADATA_FILE, type SyntheticMetadata } from './syntheticMetadata.ts';

export interface ExportOptions {
  /** Which instances, by effective status (the curator's override wins). Default: accepted. */
  readonly status?: InstanceStatus | 'all';
}

export interface ExportSummary {
  readonly destination: string;
  readonly instances: number;
  readonly perClass: Record<string, number>;
}

/** The ImageFolder copy lives in this sub-folder, next to the manifests. */
export const IMAGES_SUBDIR = 'images';

/**
 * Exports the selected instances as an ImageFolder (`images/<label>/<hash>.png`, with a Hugging Face
 * style `images/metadata.jsonl` that `winnow import synthetic` reads back) and as CSV and JSONL
 * manifests carrying every score and the provenance. Everything is written into a temporary sibling
 * folder first and renamed into place, so a failed export leaves nothing half-written.
 */
export async function exportDataset(
  project: Project,
  destination: string,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const dest = resolve(destination);
  if (existsSync(dest) && readdirSync(dest).length > 0) {
    throw new WinnowError(`${dest} already exists and is not empty.`, 'Export into a new or empty folder.');
  }
  const status = options.status ?? 'accepted';
  const { db } = project;
  const classNames = new Map(listClasses(db).map((c) => [c.id, c.name]));
  const scores = latestScores(db);
  const kinds = scoreKinds(db);
  const verdicts = currentVerdicts(db);
  const instances = listInstances(db, status === 'all' ? {} : { status });

  const temp = join(dirname(dest), `.${basename(dest)}.partial-${randomBytes(4).toString('hex')}`);
  const perClass: Record<string, number> = {};
  await mkdir(join(temp, IMAGES_SUBDIR), { recursive: true });
  try {
    const manifest: Record<string, unknown>[] = [];
    const metadata: SyntheticMetadata[] = [];
    for (const instance of instances) {
      const label = classNames.get(instance.labelId) ?? String(instance.labelId);
      const fileName = `${label}/${instance.imageHash}.png`;
      await mkdir(join(temp, IMAGES_SUBDIR, label), { recursive: true });
      await copyFile(project.images.pathOf(instance.imageHash), join(temp, IMAGES_SUBDIR, fileName));
      perClass[label] = (perClass[label] ?? 0) + 1;
      const instanceScores = scores.get(instance.id) ?? {};
      metadata.push({
        file_name: fileName,
        class: classNames.get(instance.classId) ?? String(instance.classId),
        prompt: instance.prompt,
        negative_prompt: instance.negativePrompt,
        seed: instance.seed,
        generator: instance.generatorId,
        gen_params: JSON.parse(instance.genParams) as Record<string, unknown>,
        epsilon: instance.epsilon,
        status: instance.status,
        override: instance.override,
        scores: instanceScores,
      });
      manifest.push({
        id: instance.id,
        file_name: `${IMAGES_SUBDIR}/${fileName}`,
        image_hash: instance.imageHash,
        label,
        class: classNames.get(instance.classId) ?? String(instance.classId),
        decision: effectiveStatus(instance),
        status: instance.status,
        override: instance.override,
        audit_verdict: verdicts.get(instance.id) ?? null,
        contribution: instance.contribution,
        scores: instanceScores,
        prompt: instance.prompt,
        negative_prompt: instance.negativePrompt,
        seed: instance.seed,
        epsilon: instance.epsilon,
        perturbation: instance.perturbation === null ? null : (JSON.parse(instance.perturbation) as unknown),
        generator: instance.generatorId,
        gen_params: JSON.parse(instance.genParams) as unknown,
        source: instance.source,
        source_path: instance.sourcePath,
        run_id: instance.runId,
        round: instance.roundIndex,
        created_at: instance.createdAt,
      });
    }
    const jsonl = (rows: readonly unknown[]) =>
      rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
    await writeFile(join(temp, IMAGES_SUBDIR, METADATA_FILE), jsonl(metadata));
    await writeFile(join(temp, 'manifest.jsonl'), jsonl(manifest));
    await writeFile(join(temp, 'manifest.csv'), toCsv(manifest, kinds));
    if (existsSync(dest)) await rmdir(dest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  recordExport(db, {
    destination: dest,
    formats: ['imagefolder', 'csv', 'jsonl'],
    filter: { status },
    counts: { instances: instances.length, ...perClass },
  });
  return { destination: dest, instances: instances.length, perClass };
}

/** CSV has no nesting: each score kind becomes a `score_<kind>` column, objects become JSON text. */
function toCsv(rows: readonly Record<string, unknown>[], kinds: readonly string[]): string {
  const flat = rows.map((row) => {
    const { scores, ...rest } = row as { scores: Record<string, number> } & Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      out[key] = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
    }
    for (const kind of kinds) out[`score_${kind}`] = scores[kind] ?? null;
    return out;
  });
  const header =
    rows.length > 0 ? Object.keys(flat[0] ?? {}) : ['id', 'file_name', 'label', ...kinds.map((k) => `score_${k}`)];
  return stringify(flat, { header: true, columns: header });
}
