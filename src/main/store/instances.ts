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

/**
 * The seeds in [from, to) of instances generated for a class with exactly these settings, each with
 * the prompt it was made from: what a `winnow generate` run again with the same seed has made already.
 */
export function generatedSeeds(
  db: Db,
  q: {
    readonly classId: number;
    readonly generatorId: string;
    readonly genParams: string;
    readonly epsilon: number;
    readonly negativePrompt: string;
    readonly from: number;
    readonly to: number;
  },
): Map<number, string> {
  const rows = db
    .prepare<[number, string, string, number, string, number, number], { seed: number; prompt: string }>(
      `SELECT seed, prompt FROM instances
       WHERE class_id = ? AND source = 'generated' AND generator_id = ? AND gen_params = ? AND epsilon = ?
         AND negative_prompt = ? AND seed >= ? AND seed < ?`,
    )
    .all(q.classId, q.generatorId, q.genParams, q.epsilon, q.negativePrompt, q.from, q.to);
  return new Map(rows.map((r) => [r.seed, r.prompt]));
}

/** The automatic filter's decision; the curator's override, if any, is left as it is. */
export function setStatus(db: Db, id: number, status: InstanceStatus): void {
  db.prepare('UPDATE instances SET status = ? WHERE id = ?').run(status, id);
}

/** An instance with its latest score of the kind a list is ordered by (null: not scored by it). */
export type ScoredInstance = Instance & { readonly score: number | null };

/** The instance columns prefixed with the alias `i`, for queries that join instances to their scores. */
export const I_COLUMNS = INSTANCE_COLUMNS.split(',')
  .map((column) => `i.${column.trim()}`)
  .join(', ');

// Highest first or lowest first, ties broken by id the same way round: both are one walk, forwards
// or backwards, of latest_scores_rank (kind, label_id, value, instance_id), with no sort step.
const SCORED_ORDER = { best: 'ls.value DESC, ls.instance_id DESC', worst: 'ls.value, ls.instance_id' } as const;

/**
 * The instances of class :labelId scored by :kind, in `end`'s order, that also meet `where` (on i
 * and ls); exported for the plan tests.
 */
export function scoredSql(end: 'best' | 'worst', where: string): string {
  return `SELECT ${I_COLUMNS}, ls.value AS score
    FROM latest_scores ls CROSS JOIN instances i ON i.id = ls.instance_id
    WHERE ls.kind = :kind AND ls.label_id = :labelId${where}
    ORDER BY ${SCORED_ORDER[end]} LIMIT :limit OFFSET :offset`;
}

/** The queries behind `extremesOfClass`, exported so tests can check their plan. */
export const EXTREMES_SQL = { best: scoredSql('best', ''), worst: scoredSql('worst', '') } as const;

/**
 * The N instances of a class with the highest (best) or lowest (worst) latest score of a kind,
 * unscored ones left out: a range scan of one index, for every kind; with filters, the same walk
 * stops at the first N that meet them (no count, unlike a page).
 */
export function extremesOfClass(
  db: Db,
  labelId: number,
  kind: string,
  n: number,
  end: 'best' | 'worst',
  filter: ClassFilter = {},
): ScoredInstance[] {
  const { bound, onInstance, onScore } = classFilterSql(filter);
  return db
    .prepare<Record<string, unknown>, ScoredInstance>(
      onInstance + onScore === '' ? EXTREMES_SQL[end] : scoredSql(end, onScore + onInstance),
    )
    .all({ ...bound, labelId, kind, limit: n, offset: 0 });
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

/**
 * What scoring needs of an instance (the override: what the validated rule's heads train on): `winnow
 * score` reads only these, not whole rows, for a million of them.
 */
export type InstanceKey = Pick<Instance, 'id' | 'labelId' | 'imageHash' | 'override'>;

/** Every instance's id, pseudo-label, image and override, in id order. */
export function listInstanceKeys(db: Db): InstanceKey[] {
  return db
    .prepare<[], InstanceKey>(
      'SELECT id, label_id AS labelId, image_hash AS imageHash, override FROM instances ORDER BY id',
    )
    .all();
}

/** Up to `limit` instances after id `afterId`, in id order, by effective status as listInstances: one page of a walk over all. */
export function instancesAfter(db: Db, filter: InstanceFilter, afterId: number, limit: number): Instance[] {
  return db
    .prepare<{ status: string | null; labelId: number | null; afterId: number; limit: number }, Instance>(
      `SELECT ${INSTANCE_COLUMNS} FROM instances
       WHERE id > :afterId AND (:status IS NULL OR coalesce(override, status) = :status)
         AND (:labelId IS NULL OR label_id = :labelId)
       ORDER BY id LIMIT :limit`,
    )
    .all({ status: filter.status ?? null, labelId: filter.labelId ?? null, afterId, limit });
}

/** How many instances listInstances would list. */
export function countInstances(db: Db, filter: InstanceFilter = {}): number {
  return (
    db
      .prepare<{ status: string | null; labelId: number | null }, { n: number }>(
        `SELECT count(*) AS n FROM instances
         WHERE (:status IS NULL OR coalesce(override, status) = :status) AND (:labelId IS NULL OR label_id = :labelId)`,
      )
      .get({ status: filter.status ?? null, labelId: filter.labelId ?? null })?.n ?? 0
  );
}

/** How many instances each pseudo-label has, of those with the effective status (all when none): label id → count. */
export function countByLabel(db: Db, status?: InstanceStatus): Map<number, number> {
  const rows = db
    .prepare<{ status: string | null }, { labelId: number; n: number }>(
      `SELECT label_id AS labelId, count(*) AS n FROM instances
       WHERE :status IS NULL OR coalesce(override, status) = :status GROUP BY label_id`,
    )
    .all({ status: status ?? null });
  return new Map(rows.map((r) => [r.labelId, r.n]));
}

/**
 * The ids of a class's instances (of the effective status, when given) by their latest score of a
 * kind, lowest first, unscored ones last, ties by id: an audit's strata, as numbers, not rows.
 */
export function idsOfClassByScore(db: Db, labelId: number, kind: string, status?: InstanceStatus): number[] {
  return db
    .prepare<{ labelId: number; kind: string; status: string | null }, { id: number }>(
      `SELECT i.id FROM instances i LEFT JOIN latest_scores ls ON ls.instance_id = i.id AND ls.kind = :kind
       WHERE i.label_id = :labelId AND (:status IS NULL OR coalesce(i.override, i.status) = :status)
       ORDER BY ls.value IS NULL, ls.value, i.id`,
    )
    .all({ labelId, kind, status: status ?? null })
    .map((r) => r.id);
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

/** What the review's filters keep of a class's instances. */
export interface ClassFilter {
  readonly status?: InstanceStatus;
  /** Only instances whose score (of the kind listed by) lies in [min, max] (so only scored ones). */
  readonly minScore?: number;
  readonly maxScore?: number;
  readonly roundIndex?: number;
  readonly generatorId?: string;
  /** Case-insensitive substring of the prompt. */
  readonly promptContains?: string;
  /** Only instances carrying this tag (compared without case, as tags are). */
  readonly tag?: string;
}

export interface ClassPage extends ClassFilter {
  readonly labelId: number;
  /** best: highest score first; worst: lowest first (unscored instances last either way); newest: by id. */
  readonly order: 'best' | 'worst' | 'newest';
  /** The score kind to order by, shown as each instance's `score` (its latest value). */
  readonly kind: string;
  readonly offset: number;
  readonly limit: number;
}

/**
 * The SQL conditions of the filters given (on i, the instance, and ls, its latest score), and their
 * bound values: only the filters given become SQL, so a list with none reads the index alone.
 */
function classFilterSql(filter: ClassFilter): {
  bound: Record<string, string | number>;
  onInstance: string;
  onScore: string;
} {
  const params = {
    status: filter.status,
    roundIndex: filter.roundIndex,
    generatorId: filter.generatorId,
    // The user's text is a bound parameter; only LIKE's own wildcards in it are escaped.
    prompt: filter.promptContains ? `%${filter.promptContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined,
    tag: filter.tag,
    minScore: filter.minScore,
    maxScore: filter.maxScore,
  };
  const given = (name: keyof typeof params, sql: string) => (params[name] === undefined ? '' : ` AND ${sql}`);
  return {
    bound: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<
      string,
      string | number
    >,
    onInstance:
      given('status', 'coalesce(i.override, i.status) = :status') +
      given('roundIndex', 'i.round_index = :roundIndex') +
      given('generatorId', 'i.generator_id = :generatorId') +
      given('prompt', "i.prompt LIKE :prompt ESCAPE '\\'") +
      given('tag', 'EXISTS (SELECT 1 FROM instance_tags t WHERE t.instance_id = i.id AND t.tag = :tag)'),
    onScore: given('minScore', 'ls.value >= :minScore') + given('maxScore', 'ls.value <= :maxScore'),
  };
}

/**
 * One page of a class's instances for the review grid, and how many there are in all. Ordered by a
 * score, the scored instances come first, walked in order through latest_scores_rank; the
 * unscored ones follow by id.
 */
export function pageOfClass(db: Db, page: ClassPage): { total: number; items: ScoredInstance[] } {
  const filters = classFilterSql(page);
  const { onInstance, onScore } = filters;
  const bound = { ...filters.bound, labelId: page.labelId, kind: page.kind };
  const window = { limit: page.limit, offset: page.offset };
  const count = (sql: string) => db.prepare<typeof bound, { n: number }>(sql).get(bound)?.n ?? 0;
  const list = (sql: string, at: typeof window) =>
    db.prepare<typeof bound & typeof window, ScoredInstance>(sql).all({ ...bound, ...at });

  const scored = count(
    `SELECT count(*) AS n FROM latest_scores ls ${onInstance ? 'CROSS JOIN instances i ON i.id = ls.instance_id' : ''}
     WHERE ls.kind = :kind AND ls.label_id = :labelId${onScore}${onInstance}`,
  );
  // A score range leaves the unscored out.
  const all = onScore
    ? scored
    : count(`SELECT count(*) AS n FROM instances i WHERE i.label_id = :labelId${onInstance}`);
  if (page.order === 'newest') {
    const items = list(
      `SELECT ${I_COLUMNS}, ls.value AS score
       FROM instances i ${onScore ? '' : 'LEFT '}JOIN latest_scores ls ON ls.instance_id = i.id AND ls.kind = :kind
       WHERE i.label_id = :labelId${onInstance}${onScore} ORDER BY i.id DESC LIMIT :limit OFFSET :offset`,
      window,
    );
    return { total: all, items };
  }
  const items = page.offset < scored ? list(scoredSql(page.order, onScore + onInstance), window) : [];
  const rest = page.limit - items.length;
  if (rest > 0 && all > scored)
    items.push(
      ...list(
        `SELECT ${I_COLUMNS}, NULL AS score FROM instances i
         WHERE i.label_id = :labelId${onInstance}
           AND NOT EXISTS (SELECT 1 FROM latest_scores ls WHERE ls.instance_id = i.id AND ls.kind = :kind)
         ORDER BY i.id LIMIT :limit OFFSET :offset`,
        { limit: rest, offset: Math.max(0, page.offset - scored) },
      ),
    );
  return { total: all, items };
}

/**
 * Every instance of the project, of any class, that a review view's filters keep, with its latest
 * score of `kind` (null: unscored): what the map highlights when a saved view is applied.
 */
export function instancesMatching(db: Db, kind: string, filter: ClassFilter): { id: number; score: number | null }[] {
  const { bound, onInstance, onScore } = classFilterSql(filter);
  return db
    .prepare<Record<string, unknown>, { id: number; score: number | null }>(
      `SELECT i.id, ls.value AS score
       FROM instances i ${onScore ? '' : 'LEFT '}JOIN latest_scores ls ON ls.instance_id = i.id AND ls.kind = :kind
       WHERE 1${onInstance}${onScore} ORDER BY i.id`,
    )
    .all({ ...bound, kind });
}
