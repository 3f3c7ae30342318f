import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { copyFile, type FileHandle, mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { WinnowError } from '../errors.ts';
import { checkFolderPath } from '../store/atomicFile.ts';
import { listClasses } from '../store/classes.ts';
import { latestVerdicts } from '../store/curation.ts';
import { recordExport } from '../store/exports.ts';
import {
  countInstances,
  effectiveStatus,
  type Instance,
  type InstanceStatus,
  instancesAfter,
} from '../store/instances.ts';
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

/** Instances read and written at a time: an export holds one page, never the whole selection. */
const EXPORT_PAGE = 2000;

/**
 * The selected instances, a page at a time in id order, each with its latest scores: by effective
 * status in SQL, by label, contribution and score here.
 */
async function* selected(
  project: Project,
  options: ExportOptions,
): AsyncGenerator<{ instance: Instance; scores: Record<string, number> }[]> {
  const status = options.status ?? 'accepted';
  const filter = status === 'all' ? {} : { status };
  const labels = options.labelIds ? new Set(options.labelIds) : undefined;
  for (let page = instancesAfter(project.db, filter, 0, EXPORT_PAGE); page.length > 0;) {
    const scores = latestScores(project.db, page[0]!.id, page.at(-1)!.id);
    yield page
      .filter(
        (i) =>
          (labels === undefined || labels.has(i.labelId)) &&
          (options.minContribution === undefined ||
            (i.contribution !== null && i.contribution >= options.minContribution)) &&
          (options.minScore === undefined || (defaultScore(scores, i.id) ?? -Infinity) >= options.minScore),
      )
      .map((instance) => ({ instance, scores: scores.get(instance.id) ?? {} }));
    page = instancesAfter(project.db, filter, page.at(-1)!.id, EXPORT_PAGE);
  }
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
  const kinds = scoreKinds(db);
  // Verdicts are a curator's, a few thousand at most: held whole.
  const verdicts = latestVerdicts(db);
  const status = options.status ?? 'accepted';
  const total = countInstances(db, status === 'all' ? {} : { status });
  const annotationsOf = curatorAnnotations(db);
  const copyImages = formats.has('imagefolder') || formats.has('coco');
  const nameOf = (classId: number) => classNames.get(classId) ?? String(classId);

  const temp = join(dirname(dest), `.${basename(dest)}.partial-${randomBytes(4).toString('hex')}`);
  const perClass: Record<string, number> = {};
  let exported = 0;
  let files: string[];
  await mkdir(temp, { recursive: true });
  // Each format's file is written as the pages go (coco's annotations into a part joined at the end).
  const out = new ExportFiles(temp, formats, kinds, classes);
  try {
    await out.open();
    let read = 0;
    for await (const page of selected(project, options)) {
      const manifest: ManifestRow[] = [];
      const metadata: SyntheticMetadata[] = [];
      const images: CocoImage[] = [];
      for (const { instance, scores: instanceScores } of page) {
        // Every format names the current label (after any relabel), never the class the image was made for.
        const label = nameOf(instance.labelId);
        const fileName = `${label}/${instance.imageHash}.png`;
        if (copyImages) {
          await mkdir(join(temp, IMAGES_SUBDIR, label), { recursive: true });
          await copyFile(project.images.pathOf(instance.imageHash), join(temp, IMAGES_SUBDIR, fileName));
        }
        perClass[label] = (perClass[label] ?? 0) + 1;
        const labels = { label, pseudo_label: nameOf(instance.classId) };
        const annotations = annotationsOf(instance.id);
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
          score: instanceScores[DEFAULT_SCORE_KIND] ?? null,
          scores: instanceScores,
          ...annotations,
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
          ...annotations,
          contribution: instance.contribution,
          score: instanceScores[DEFAULT_SCORE_KIND] ?? null,
          scores: instanceScores,
          ...provenance,
          perturbation: instance.perturbation === null ? null : (JSON.parse(instance.perturbation) as unknown),
          source: instance.source,
          source_path: instance.sourcePath,
          run_id: instance.runId,
          round: instance.roundIndex,
          created_at: instance.createdAt,
        });
        images.push({ instance, size: imageSize(db, instance.imageHash) });
      }
      await out.append(metadata, manifest, images);
      exported += page.length;
      read = Math.min(total, read + EXPORT_PAGE);
      options.onProgress?.(read, total);
    }
    files = await out.close();
    if (existsSync(dest)) await rmdir(dest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(temp, dest);
  } catch (error) {
    await out.discard();
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  recordExport(db, {
    destination: dest,
    formats: [...formats],
    filter: {
      status,
      labelIds: options.labelIds ?? null,
      minContribution: options.minContribution ?? null,
      minScore: options.minScore ?? null,
    },
    counts: { instances: exported, ...perClass },
  });
  return { destination: dest, instances: exported, perClass, files };
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
 * Called once per page; the first call (`header`) writes the header line too.
 */
function toCsv(rows: readonly ManifestRow[], kinds: readonly string[], header: boolean): string {
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
  return stringify(flat, { header, columns, escape_formulas: true });
}

/** An exported instance with its image's size, for coco.json's images. */
interface CocoImage {
  readonly instance: Instance;
  readonly size: { width: number; height: number } | undefined;
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/**
 * The export's files, written a page at a time in the temporary folder. COCO-style classification
 * (coco.json): images, categories, and one annotation per image whose `category_id` is its current
 * label, with its pseudo-label, decision, audit verdict, tags, note and scores; its annotations are written to a
 * part file beside it and appended when the images are done, so neither list is held whole.
 */
class ExportFiles {
  private readonly handles = new Map<string, FileHandle>();
  private pages = 0;
  private readonly dir: string;
  private readonly formats: ReadonlySet<ExportFormat>;
  private readonly kinds: readonly string[];
  private readonly classes: readonly { id: number; name: string }[];

  constructor(
    dir: string,
    formats: ReadonlySet<ExportFormat>,
    kinds: readonly string[],
    classes: readonly { id: number; name: string }[],
  ) {
    this.dir = dir;
    this.formats = formats;
    this.kinds = kinds;
    this.classes = classes;
  }

  private get names(): string[] {
    return [
      ...(this.formats.has('imagefolder') ? [`${IMAGES_SUBDIR}/${METADATA_FILE}`] : []),
      ...(this.formats.has('jsonl') ? ['manifest.jsonl'] : []),
      ...(this.formats.has('csv') ? ['manifest.csv'] : []),
      ...(this.formats.has('coco') ? ['coco.json', COCO_ANNOTATIONS_PART] : []),
    ];
  }

  async open(): Promise<void> {
    for (const name of this.names) {
      await mkdir(dirname(join(this.dir, name)), { recursive: true });
      this.handles.set(name, await open(join(this.dir, name), 'w'));
    }
    await this.write(
      'coco.json',
      `{"info":${JSON.stringify({ description: 'Synthetic instances curated with Winnow', date_created: new Date().toISOString() })},"categories":${JSON.stringify(this.classes.map((c) => ({ id: c.id, name: c.name })))},"images":[`,
    );
    await this.write('manifest.csv', toCsv([], this.kinds, true));
  }

  private async write(name: string, text: string): Promise<void> {
    const handle = this.handles.get(name);
    if (handle !== undefined && text !== '') await handle.write(text);
  }

  async append(
    metadata: readonly SyntheticMetadata[],
    manifest: readonly ManifestRow[],
    images: readonly CocoImage[],
  ): Promise<void> {
    if (manifest.length === 0) return;
    await this.write(`${IMAGES_SUBDIR}/${METADATA_FILE}`, jsonl(metadata));
    await this.write('manifest.jsonl', jsonl(manifest));
    await this.write('manifest.csv', toCsv(manifest, this.kinds, false));
    if (this.handles.has('coco.json')) {
      const separator = this.pages === 0 ? '' : ',';
      const cocoImages = images.map(({ instance: i, size }, k) =>
        JSON.stringify({ id: i.id, file_name: manifest[k]?.file_name, ...size, image_hash: i.imageHash }),
      );
      const annotations = images.map(({ instance: i }, k) =>
        JSON.stringify({
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
        }),
      );
      await this.write('coco.json', separator + cocoImages.join(','));
      await this.write(COCO_ANNOTATIONS_PART, separator + annotations.join(','));
    }
    this.pages++;
  }

  /** Finishes every file (coco.json takes its annotations from the part file); returns their names. */
  async close(): Promise<string[]> {
    const coco = this.handles.get('coco.json');
    const part = this.handles.get(COCO_ANNOTATIONS_PART);
    if (coco !== undefined && part !== undefined) {
      await part.close();
      this.handles.delete(COCO_ANNOTATIONS_PART);
      await coco.write('],"annotations":[');
      for await (const piece of createReadStream(join(this.dir, COCO_ANNOTATIONS_PART)))
        await coco.write(piece as Buffer);
      await coco.write(']}');
      await rm(join(this.dir, COCO_ANNOTATIONS_PART));
    }
    for (const handle of this.handles.values()) await handle.close();
    this.handles.clear();
    return this.names.filter((name) => name !== COCO_ANNOTATIONS_PART);
  }

  /** Closes whatever is still open (a failed export), so its folder can be removed. */
  async discard(): Promise<void> {
    for (const handle of this.handles.values()) await handle.close().catch(() => {});
    this.handles.clear();
  }
}

const COCO_ANNOTATIONS_PART = '.coco-annotations.part';
