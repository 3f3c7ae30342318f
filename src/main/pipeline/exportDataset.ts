import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { WinnowError } from '../errors.ts';
import { checkFolderPath } from '../store/atomicFile.ts';
import { listClasses } from '../store/classes.ts';
import { latestVerdicts } from '../store/curation.ts';
import { recordExport } from '../store/exports.ts';
import { effectiveStatus, type Instance, type InstanceStatus, listInstances } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { latestScores, scoreKinds } from '../store/scores.ts';
import { imageSize } from '../store/images.ts';
import { curatorAnnotations } from '../store/tags.ts';
import { METADATA_FILE, type SyntheticMetadata } from './syntheticMetadata.ts';
import { DEFAULT_SCORE_KIND } from '../../shared/scoreKinds.ts';

export const EXPORT_FORMATS = ['imagefolder', 'csv', 'jsonl', 'coco'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** Which instances, by effective status (the curator's override wins). Default: accepted. */
  readonly status?: InstanceStatus | 'all';
  /** Only instances with these labels (class ids, as curated: after relabels). Default: all classes. */
  readonly labelIds?: readonly number[];
  /** Only instances whose latest contribution is at least this (unscored ones are left out). */
  readonly minContribution?: number;
  /** Only instances whose latest default-ranking score (`quality`) is at least this (unscored ones are left out). */
  readonly minScore?: number;
  /** Default: every format. */
  readonly formats?: readonly ExportFormat[];
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ExportSummary {
  readonly destination: string;
  readonly instances: number;
  readonly perClass: Record<string, number>;
  readonly files: readonly string[];
}

/** The ImageFolder copy lives in this sub-folder, next to the manifests. */
export const IMAGES_SUBDIR = 'images';

function selected(
  project: Project,
  options: ExportOptions,
  scores: ReadonlyMap<number, Record<string, number>>,
): Instance[] {
  const status = options.status ?? 'accepted';
  const labels = options.labelIds ? new Set(options.labelIds) : undefined;
  return listInstances(project.db, status === 'all' ? {} : { status }).filter(
    (i) =>
      (labels === undefined || labels.has(i.labelId)) &&
      (options.minContribution === undefined ||
        (i.contribution !== null && i.contribution >= options.minContribution)) &&
      (options.minScore === undefined || (defaultScore(scores, i.id) ?? -Infinity) >= options.minScore),
  );
}

/** The latest value of the default ranking (`quality`), what exports carry as `score`; null when unscored. */
function defaultScore(scores: ReadonlyMap<number, Record<string, number>>, id: number): number | null {
  return scores.get(id)?.[DEFAULT_SCORE_KIND] ?? null;
}

/**
 * Exports the selected instances in any of these formats:
 * - imagefolder: `images/<label>/<hash>.png` with a Hugging Face imagefolder `images/metadata.jsonl`
 *   (label, pseudo-label, provenance and scores), which `winnow import synthetic` reads back;
 * - csv, jsonl: `manifest.csv` / `manifest.jsonl`, every score and the provenance per instance;
 * - coco: `coco.json`, a COCO-style classification file (images, categories, one annotation each).
 * Everything is written into a temporary sibling folder first and renamed into place, so a failed
 * export leaves nothing half-written.
 */
export async function exportDataset(
  project: Project,
  destination: string,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const dest = resolve(destination);
  checkFolderPath(dest);
  if (existsSync(dest) && readdirSync(dest).length > 0) {
    throw new WinnowError(`${dest} already exists and is not empty.`, 'Export into a new or empty folder.');
  }
  const formats = new Set(options.formats ?? EXPORT_FORMATS);
  if (formats.size === 0)
    throw new WinnowError('No export format was chosen.', `Choose one or more of ${EXPORT_FORMATS.join(', ')}.`);
  const { db } = project;
  const classes = listClasses(db);
  const classNames = new Map(classes.map((c) => [c.id, c.name]));
  const scores = latestScores(db);
  const kinds = scoreKinds(db);
  const verdicts = latestVerdicts(db);
  const annotationsOf = curatorAnnotations(db);
  const instances = selected(project, options, scores);
  const copyImages = formats.has('imagefolder') || formats.has('coco');
  const nameOf = (classId: number) => classNames.get(classId) ?? String(classId);

  const temp = join(dirname(dest), `.${basename(dest)}.partial-${randomBytes(4).toString('hex')}`);
  const perClass: Record<string, number> = {};
  const files: string[] = [];
  await mkdir(temp, { recursive: true });
  try {
    const manifest: ManifestRow[] = [];
    const metadata: SyntheticMetadata[] = [];
    for (const [k, instance] of instances.entries()) {
      // Every format names the current label (after any relabel), never the class the image was made for.
      const label = nameOf(instance.labelId);
      const fileName = `${label}/${instance.imageHash}.png`;
      if (copyImages) {
        await mkdir(join(temp, IMAGES_SUBDIR, label), { recursive: true });
        await copyFile(project.images.pathOf(instance.imageHash), join(temp, IMAGES_SUBDIR, fileName));
      }
      perClass[label] = (perClass[label] ?? 0) + 1;
      const instanceScores = scores.get(instance.id) ?? {};
      const labels = { label, pseudo_label: nameOf(instance.classId) };
      const provenance = {
        prompt: instance.prompt,
        negative_prompt: instance.negativePrompt,
        seed: instance.seed,
        generator: instance.generatorId,
        gen_params: JSON.parse(instance.genParams) as Record<string, unknown>,
        epsilon: instance.epsilon,
      };
      metadata.push({
        file_name: fileName,
        ...labels,
        ...provenance,
        status: instance.status,
        override: instance.override,
        score: defaultScore(scores, instance.id),
        scores: instanceScores,
      });
      const verdict = verdicts.get(instance.id);
      manifest.push({
        id: instance.id,
        file_name: copyImages ? `${IMAGES_SUBDIR}/${fileName}` : null,
        image_hash: instance.imageHash,
        ...labels,
        decision: effectiveStatus(instance),
        status: instance.status,
        override: instance.override,
        audit_verdict: verdict?.verdict ?? null,
        audit_label: verdict === undefined ? null : nameOf(verdict.labelId),
        ...annotationsOf(instance.id),
        contribution: instance.contribution,
        score: defaultScore(scores, instance.id),
        scores: instanceScores,
        ...provenance,
        perturbation: instance.perturbation === null ? null : (JSON.parse(instance.perturbation) as unknown),
        source: instance.source,
        source_path: instance.sourcePath,
        run_id: instance.runId,
        round: instance.roundIndex,
        created_at: instance.createdAt,
      });
      options.onProgress?.(k + 1, instances.length);
    }
    const jsonl = (rows: readonly unknown[]) =>
      rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
    const write = async (name: string, text: string) => {
      await mkdir(dirname(join(temp, name)), { recursive: true });
      await writeFile(join(temp, name), text);
      files.push(name);
    };
    if (formats.has('imagefolder')) await write(`${IMAGES_SUBDIR}/${METADATA_FILE}`, jsonl(metadata));
    if (formats.has('jsonl')) await write('manifest.jsonl', jsonl(manifest));
    if (formats.has('csv')) await write('manifest.csv', toCsv(manifest, kinds));
    if (formats.has('coco')) await write('coco.json', toCoco(project, instances, manifest, classes));
    if (existsSync(dest)) await rmdir(dest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  recordExport(db, {
    destination: dest,
    formats: [...formats],
    filter: {
      status: options.status ?? 'accepted',
      labelIds: options.labelIds ?? null,
      minContribution: options.minContribution ?? null,
      minScore: options.minScore ?? null,
    },
    counts: { instances: instances.length, ...perClass },
  });
  return { destination: dest, instances: instances.length, perClass, files };
}

/**
 * The manifest's columns, in order: `label` is the current label (a relabel changes it),
 * `pseudo_label` the class the image was made for; `audit_label` is the label the latest audit
 * verdict judged, which a later relabel leaves behind; `tags` (a list, JSON text in CSV) and
 * `note` are the curators'.
 */
const MANIFEST_COLUMNS = [
  'id',
  'file_name',
  'image_hash',
  'label',
  'pseudo_label',
  'decision',
  'status',
  'override',
  'audit_verdict',
  'audit_label',
  'tags',
  'note',
  'contribution',
  'score',
  'scores',
  'prompt',
  'negative_prompt',
  'seed',
  'generator',
  'gen_params',
  'epsilon',
  'perturbation',
  'source',
  'source_path',
  'run_id',
  'round',
  'created_at',
] as const;
type ManifestRow = Record<(typeof MANIFEST_COLUMNS)[number], unknown> & { scores: Record<string, number> };

/**
 * CSV has no nesting: each score kind becomes a `score_<kind>` column, objects become JSON text.
 * People open manifest.csv in a spreadsheet, where a cell starting with =, +, -, @, tab or CR is a
 * formula (CSV injection: a prompt `=HYPERLINK(...)` would run). As OWASP advises, such text cells are
 * prefixed with a single quote (csv-stringify's `escape_formulas`); numbers (seeds, scores, negative
 * ones too) stay numbers. manifest.jsonl and metadata.jsonl are data for programs and keep the text as is.
 */
function toCsv(rows: readonly ManifestRow[], kinds: readonly string[]): string {
  const flat = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const column of MANIFEST_COLUMNS) {
      if (column === 'scores') continue;
      const value = row[column];
      out[column] = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
    }
    for (const kind of kinds) out[`score_${kind}`] = row.scores[kind] ?? null;
    return out;
  });
  const columns = [...MANIFEST_COLUMNS.filter((c) => c !== 'scores'), ...kinds.map((k) => `score_${k}`)];
  return stringify(flat, { header: true, columns, escape_formulas: true });
}

/**
 * COCO-style classification: images, categories, and one annotation per image whose `category_id`
 * is its current label, with its pseudo-label, decision, audit verdict and scores.
 */
function toCoco(
  project: Project,
  instances: readonly Instance[],
  manifest: readonly ManifestRow[],
  classes: readonly { id: number; name: string }[],
): string {
  return JSON.stringify({
    info: { description: 'Synthetic instances curated with Winnow', date_created: new Date().toISOString() },
    categories: classes.map((c) => ({ id: c.id, name: c.name })),
    images: instances.map((i, k) => ({
      id: i.id,
      file_name: manifest[k]?.file_name,
      ...imageSize(project.db, i.imageHash),
      image_hash: i.imageHash,
    })),
    annotations: instances.map((i, k) => ({
      id: i.id,
      image_id: i.id,
      category_id: i.labelId,
      label: manifest[k]?.label,
      pseudo_label_category_id: i.classId,
      pseudo_label: manifest[k]?.pseudo_label,
      decision: manifest[k]?.decision,
      audit_verdict: manifest[k]?.audit_verdict,
      audit_label: manifest[k]?.audit_label,
      tags: manifest[k]?.tags,
      note: manifest[k]?.note,
      contribution: i.contribution,
      score: manifest[k]?.score,
      scores: manifest[k]?.scores,
    })),
  });
}
