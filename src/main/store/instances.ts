import { now } from './clock.ts';
import type { Db } from './database.ts';

export type InstanceStatus = 'pending' | 'accepted' | 'rejected';
export type Override = 'accepted' | 'rejected';

export interface Instance {
  readonly id: number;
  readonly imageHash: string;
  /** The class the instance was made for. */
  readonly classId: number;
  /** Its pseudo-label: the class it is trained as. Starts as `classId`; a curator's relabel changes it. */
  readonly labelId: number;
  readonly source: 'generated' | 'imported';
  readonly sourcePath: string | null;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number | null;
  readonly epsilon: number;
  readonly perturbation: string | null;
  readonly generatorId: string;
  readonly genParams: string;
  readonly runId: number | null;
  readonly roundIndex: number | null;
  /** The automatic filter's decision. */
  readonly status: InstanceStatus;
  /** The curator's decision; when set it wins over `status`. */
  readonly override: Override | null;
  readonly contribution: number | null;
  readonly createdAt: string;
}

export type NewInstance = Omit<Instance, 'id' | 'createdAt' | 'override' | 'contribution' | 'status'> & {
  readonly status?: InstanceStatus;
  readonly override?: Override | null;
};

export const INSTANCE_COLUMNS = `id, image_hash AS imageHash, class_id AS classId, label_id AS labelId, source,
  source_path AS sourcePath, prompt, negative_prompt AS negativePrompt, seed, epsilon, perturbation,
  generator_id AS generatorId, gen_params AS genParams, run_id AS runId, round_index AS roundIndex, status,
  override, contribution, created_at AS createdAt`;

export function effectiveStatus(instance: Pick<Instance, 'status' | 'override'>): InstanceStatus {
  return instance.override ?? instance.status;
}

export function insertInstance(db: Db, i: NewInstance): number {
  return Number(
    db
      .prepare(
        `INSERT INTO instances (image_hash, class_id, label_id, source, source_path, prompt, negative_prompt, seed,
           epsilon, perturbation, generator_id, gen_params, run_id, round_index, status, override, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        i.imageHash,
        i.classId,
        i.labelId,
        i.source,
        i.sourcePath,
        i.prompt,
        i.negativePrompt,
        i.seed,
        i.epsilon,
        i.perturbation,
        i.generatorId,
        i.genParams,
        i.runId,
        i.roundIndex,
        i.status ?? 'pending',
        i.override ?? null,
        now(),
      ).lastInsertRowid,
  );
}

export function getInstance(db: Db, id: number): Instance | undefined {
  return db.prepare<[number], Instance>(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE id = ?`).get(id);
}

export function findInstanceByHash(db: Db, hash: string): Instance | undefined {
  return db.prepare<[string], Instance>(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE image_hash = ?`).get(hash);
}

/** The automatic filter's decision; the curator's override, if any, is left as it is. */
export function setStatus(db: Db, id: number, status: InstanceStatus): void {
  db.prepare('UPDATE instances SET status = ? WHERE id = ?').run(status, id);
}

/** The queries behind `extremesOfClass`, exported so tests can check their plan. */
export const EXTREMES_SQL = {
  best: `SELECT ${INSTANCE_COLUMNS} FROM instances
  WHERE label_id = ? AND contribution IS NOT NULL ORDER BY contribution DESC LIMIT ?`,
  worst: `SELECT ${INSTANCE_COLUMNS} FROM instances
  WHERE label_id = ? AND contribution IS NOT NULL ORDER BY contribution ASC LIMIT ?`,
} as const;

/** The N instances of a class with the highest (best) or lowest (worst) contribution: an index range scan. */
export function extremesOfClass(db: Db, labelId: number, n: number, end: 'best' | 'worst'): Instance[] {
  return db.prepare<[number, number], Instance>(EXTREMES_SQL[end]).all(labelId, n);
}

export interface InstanceFilter {
  readonly status?: InstanceStatus;
  readonly labelId?: number;
}

/** Instances in id order, optionally by effective status and pseudo-label. */
export function listInstances(db: Db, filter: InstanceFilter = {}): Instance[] {
  return db
    .prepare<{ status: string | null; labelId: number | null }, Instance>(
      `SELECT ${INSTANCE_COLUMNS} FROM instances
       WHERE (:status IS NULL OR coalesce(override, status) = :status)
         AND (:labelId IS NULL OR label_id = :labelId)
       ORDER BY id`,
    )
    .all({ status: filter.status ?? null, labelId: filter.labelId ?? null });
}

/** The instances a run made, in id order; only those of one round when `round` is given. */
export function instancesOfRun(db: Db, runId: number, round?: number): Instance[] {
  return db
    .prepare<{ runId: number; round: number | null }, Instance>(
      `SELECT ${INSTANCE_COLUMNS} FROM instances
       WHERE run_id = :runId AND (:round IS NULL OR round_index = :round)
       ORDER BY id`,
    )
    .all({ runId, round: round ?? null });
}

export interface ClassPage {
  readonly labelId: number;
  readonly status?: InstanceStatus;
  /** best: highest score first; worst: lowest first (unscored instances last either way); newest: by id. */
  readonly order: 'best' | 'worst' | 'newest';
  /** The score kind to sort by (default: contribution, read from the row; others from the latest score history). */
  readonly kind?: string;
  /** Only instances whose sorting score lies in [min, max]. */
  readonly minScore?: number;
  readonly maxScore?: number;
  readonly roundIndex?: number;
  readonly generatorId?: string;
  /** Case-insensitive substring of the prompt. */
  readonly promptContains?: string;
  readonly offset: number;
  readonly limit: number;
}

const PAGE_ORDER = {
  // SQLite sorts NULL lowest, so descending order puts unscored instances last by itself, and
  // "best by contribution" can walk the (label_id, contribution) index instead of sorting.
  best: 'score DESC, id',
  worst: 'score IS NULL, score ASC, id',
  newest: 'id DESC',
} as const;

/** One page of a class's instances for the review grid, and how many there are in all. */
export function pageOfClass(
  db: Db,
  page: ClassPage,
): { total: number; items: (Instance & { readonly score: number | null })[] } {
  const byContribution = page.kind === undefined || page.kind === 'contribution';
  // The latest score of the kind, through the (instance_id, kind, id) index of the history.
  const score = byContribution
    ? 'contribution'
    : '(SELECT value FROM scores s WHERE s.instance_id = instances.id AND s.kind = :kind ORDER BY s.id DESC LIMIT 1)';
  const where = `WHERE label_id = :labelId
    AND (:status IS NULL OR coalesce(override, status) = :status)
    AND (:roundIndex IS NULL OR round_index = :roundIndex)
    AND (:generatorId IS NULL OR generator_id = :generatorId)
    AND (:prompt IS NULL OR prompt LIKE :prompt ESCAPE '\\')
    AND (:minScore IS NULL OR ${score} >= :minScore)
    AND (:maxScore IS NULL OR ${score} <= :maxScore)`;
  const params = {
    labelId: page.labelId,
    status: page.status ?? null,
    roundIndex: page.roundIndex ?? null,
    generatorId: page.generatorId ?? null,
    // The user's text is a bound parameter; only LIKE's own wildcards in it are escaped.
    prompt: page.promptContains ? `%${page.promptContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null,
    minScore: page.minScore ?? null,
    maxScore: page.maxScore ?? null,
    ...(byContribution ? {} : { kind: page.kind }),
  };
  const total =
    db.prepare<typeof params, { n: number }>(`SELECT count(*) AS n FROM instances ${where}`).get(params)?.n ?? 0;
  const items = db
    .prepare<typeof params & { limit: number; offset: number }, Instance & { score: number | null }>(
      `SELECT ${INSTANCE_COLUMNS}, ${score} AS score FROM instances ${where} ORDER BY ${PAGE_ORDER[page.order]} LIMIT :limit OFFSET :offset`,
    )
    .all({ ...params, limit: page.limit, offset: page.offset });
  return { total, items };
}
