import { DEFAULT_SCORE_KIND } from '../../shared/scoreKinds.ts';
import { defaultRuleFor } from '../../shared/runSettings.ts';
import {
  type EngineEvent,
  type Request,
  requestSchemas,
  type Responses,
  type ProjectStatus,
  type Result,
  type WinnowApi,
} from '../../shared/api.ts';
import type { ProgressEvent } from '../../shared/progress.ts';
import { METHODS, type Method } from '../../shared/methods.ts';
import { WinnowError } from '../errors.ts';
import { join } from 'node:path';
import { auditSummary, drawAuditSample } from '../pipeline/audit.ts';
import { exportDataset } from '../pipeline/exportDataset.ts';
import { defaultLoopParams, type LoopModels } from '../pipeline/loop.ts';
import { runDetail, runMetrics } from '../pipeline/runReport.ts';
import { addClass, listClasses, renameClass, updateClass } from '../store/classes.ts';
import { listRuns } from '../store/runs.ts';
import { Jobs } from './jobs.ts';
import { loadChosenModels, type ModelChoice } from './modelChoice.ts';
import { QueueChoice } from '../queue/queueChoice.ts';
import { Imports } from './imports.ts';
import { Remedies } from './remedies.ts';
import { proposeRemedy } from '../pipeline/remedy.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import { removeModel } from '../models/modelRegistry.ts';
import { registeredModels, registerModel } from './models.ts';
import { promptSuggestionsFor } from './prompts.ts';
import {
  curate,
  recordVerdict,
  redoLastUndoneInClass,
  undoLastAction,
  undoLastActionInClass,
  undoLastVerdict,
} from '../store/curation.ts';
import { extremesOfClass, getInstance, type Instance, pageOfClass, type ScoredInstance } from '../store/instances.ts';
import { initProject, isProject, openProject, type Project } from '../store/project.ts';
import type { ImageStore } from '../store/imageStore.ts';
import { recentProjects, setCurrentProject } from '../workspace.ts';
import { latestScore, scoreHistory } from '../store/scores.ts';
import { summarize } from '../store/summary.ts';
import { nearestReal, similarInstances } from './similarity.ts';
import { embeddingsMap } from './embeddingsMap.ts';
import { describeRequestIssues } from './requestErrors.ts';
import { applySuggestedLabels, labelIssueInstances, labelIssues, suggestionDetail } from './labelIssues.ts';
import { taggingMethods, withTags } from './tagging.ts';
import { noteOf, tagsOfInstance } from '../store/tags.ts';

/** An instance as lists show it, with its latest score of the kind the list is ordered by (`withTags` adds its tags). */
export function summary(i: Instance, score: number | null) {
  return {
    id: i.id,
    imageHash: i.imageHash,
    classId: i.classId,
    labelId: i.labelId,
    status: i.status,
    override: i.override,
    contribution: i.contribution,
    score,
  };
}
const scored = (i: ScoredInstance) => summary(i, i.score);

/** The open project and what it holds: what `projectStatus` answers and `winnow status` prints. */
export function projectStatus(project: Project): ProjectStatus {
  return { dir: project.dir, ...summarize(project.db) };
}

/** The engine behind the API: the open project's methods, the events it pushes, its images. */
export interface Engine {
  readonly api: WinnowApi;
  subscribe(listener: (event: EngineEvent) => void): () => void;
  /** The open project's image store (it changes when another project is opened). */
  images(): ImageStore;
  /**
   * Before the process ends: pauses a run going (it resumes later), stops an import (nothing of it
   * is kept) and a remedy trial (the class is left as it was), waits until each has ended, then
   * closes the project.
   */
  close(): Promise<void>;
}

/**
 * An engine over one open project at a time. Opening or creating another project (through the API)
 * closes this one, once no run is going; listeners stay subscribed across the switch.
 */
export function createEngine(
  first: Project,
  {
    loadModels = loadChosenModels,
    queue = new QueueChoice(),
  }: {
    /** How runs load their models (tests give tiny ones). */
    loadModels?: (choice: ModelChoice) => Promise<LoopModels>;
    /** The queue runs generate through: the user's (`--queue`, or chosen on the Run screen); default none, in memory. */
    queue?: QueueChoice;
  } = {},
): Engine {
  const listeners = new Set<(event: EngineEvent) => void>();
  const emit = (event: EngineEvent) => {
    for (const listener of listeners) listener(event);
  };
  let current = open(first);

  function open(project: Project) {
    const jobs = new Jobs(project, loadModels, { queueUrl: queue.url });
    jobs.events.on('progress', (event: ProgressEvent) => emit({ type: 'progress', event }));
    jobs.events.on('finished', (f) => emit({ type: 'finished', ...f }));
    jobs.events.on('queue', (status) => emit({ type: 'queue', status }));
    const imports = new Imports(project, () => jobs.state.state === 'running');
    const remedies = new Remedies(project, () =>
      jobs.state.state === 'running'
        ? 'A run is going in this project.'
        : imports.running
          ? 'An import is going in this project.'
          : undefined,
    );
    return { project, jobs, imports, remedies, api: createApi(project, jobs, imports, remedies, emit) };
  }

  async function switchTo(dir: string, create: boolean): Promise<ProjectStatus> {
    if (current.jobs.state.state === 'running') {
      throw new WinnowError('A run is going in this project.', 'Pause or cancel it before opening another project.');
    }
    if (current.imports.running)
      throw new WinnowError('An import is going in this project.', 'Wait until it is done, then open another project.');
    if (current.remedies.running)
      throw new WinnowError(
        'A remedy is being applied in this project.',
        'Wait until it is done, then open another project.',
      );
    const next = create ? initProject(dir) : openProject(dir);
    current.project.close();
    current = open(next);
    await setCurrentProject(next.dir);
    emit({ type: 'project', dir: next.dir });
    return projectStatus(next);
  }

  const engineMethods: Pick<WinnowApi, EngineMethod> = {
    projectList: async () => ({
      current: current.project.dir,
      recent: recentProjects().map((dir) => ({ dir, exists: isProject(dir) })),
    }),
    projectOpen: async ({ dir }) => switchTo(dir, false),
    projectCreate: async ({ dir }) => switchTo(dir, true),
    // The model registry is the user's, like the recent projects: it lives in WINNOW_HOME, not in a project.
    modelList: async () => registeredModels(),
    modelAdd: async ({ folder, name }) => registerModel(folder, name),
    modelRemove: async ({ name }) => {
      const using = current.jobs.models;
      if (using && [using.generator, using.encoder, using.clip].includes(name))
        throw new WinnowError(`The run going now uses "${name}".`, 'Pause or cancel the run, then remove the model.');
      await removeModel(name);
      return { removed: name };
    },
    // The queue, too, is the user's (or the server's --queue), not a project's.
    queueSetting: async () => queue.describe(),
    queueChoose: async ({ url }) => {
      await queue.choose(url);
      return queue.describe();
    },
  };
  // Each method to the engine's when it is one, else to the open project's (looked up at each call:
  // opening another project replaces current.api).
  type Handlers = Record<string, (request: never) => Promise<unknown>>;
  const api = Object.fromEntries(
    METHODS.map((method) => [
      method,
      (request: never) => ((method in engineMethods ? engineMethods : current.api) as Handlers)[method]!(request),
    ]),
  ) as unknown as WinnowApi;
  return {
    api,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    images: () => current.project.images,
    async close() {
      await Promise.all([current.jobs.pause(), current.imports.stop(), current.remedies.stop()]);
      current.project.close();
    },
  };
}

/** The engine's methods, not one project's: which project is open, and the user's models and queue. */
type EngineMethod =
  | 'projectList'
  | 'projectOpen'
  | 'projectCreate'
  | 'modelList'
  | 'modelAdd'
  | 'modelRemove'
  | 'queueSetting'
  | 'queueChoose';

/** The methods over one open project (the EngineMethods are the engine's). Transports validate, then call these. */
function createApi(
  project: Project,
  jobs: Jobs,
  imports: Imports,
  remedies: Remedies,
  emit: (event: EngineEvent) => void,
): Omit<WinnowApi, EngineMethod> {
  const { db } = project;
  // A list ordered by no score kind shows the default ranking.
  const ranked = (i: Instance) => summary(i, latestScore(db, i.id, DEFAULT_SCORE_KIND));
  return {
    projectStatus: async () => projectStatus(project),
    // Two index range scans, by any kind (by default the default ranking).
    classExtremes: async ({ classId, n, kind = DEFAULT_SCORE_KIND, ...filter }) => ({
      best: withTags(db, extremesOfClass(db, classId, kind, n, 'best', filter).map(scored)),
      worst: withTags(db, extremesOfClass(db, classId, kind, n, 'worst', filter).map(scored)),
    }),
    classPage: async (request) => {
      const page = pageOfClass(db, { ...request, kind: request.kind ?? DEFAULT_SCORE_KIND });
      return { total: page.total, items: withTags(db, page.items.map(scored)) };
    },
    similar: async ({ id, k, sameLabel }) => ({
      items: withTags(
        db,
        similarInstances(db, id, k, sameLabel).map((i) => ({ ...ranked(i), similarity: i.similarity })),
      ),
    }),
    nearestReal: async ({ id, k }) => ({
      items: nearestReal(db, id, k).map((r) => ({
        imageHash: r.imageHash,
        classId: r.classId,
        split: r.split,
        similarity: r.similarity,
      })),
    }),
    instanceDetail: async ({ id }) => {
      const i = getInstance(db, id);
      if (i === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
      return {
        ...ranked(i),
        tags: tagsOfInstance(db, id),
        note: noteOf(db, id),
        prompt: i.prompt,
        negativePrompt: i.negativePrompt,
        seed: i.seed,
        epsilon: i.epsilon,
        generatorId: i.generatorId,
        genParams: JSON.parse(i.genParams) as Record<string, unknown>,
        runId: i.runId,
        roundIndex: i.roundIndex,
        scores: scoreHistory(db, id).map((s) => ({
          kind: s.kind,
          value: s.value,
          roundIndex: s.roundIndex,
          at: s.createdAt,
        })),
        suggestion: suggestionDetail(db, id),
      };
    },
    curate: async ({ ids, action, labelId }) => ({
      batch: curate(db, { instanceIds: ids, action, ...(labelId === undefined ? {} : { labelId }) }),
    }),
    undo: async () => ({ batch: undoLastAction(db) ?? null }),
    ...taggingMethods(db),
    classUndo: async ({ classId }) => ({ undone: undoLastActionInClass(db, classId) ?? null }),
    classRedo: async ({ classId }) => ({ redone: redoLastUndoneInClass(db, classId) ?? null }),
    auditSample: async ({ perClass, seed, population }) => ({
      items: withTags(db, drawAuditSample(db, perClass, seed, population).map(ranked)),
    }),
    auditVerdict: async ({ id, verdict, labelId }) => {
      const recorded = recordVerdict(db, id, verdict, labelId);
      return { id: recorded.id, labelId: recorded.labelId };
    },
    auditUndo: async () => ({ id: undoLastVerdict(db) ?? null }),
    auditSummary: async ({ kind, population = 'exported', seed }) =>
      auditSummary(db, kind, { population, ...(seed === undefined ? {} : { seed }) }),
    listClasses: async () => ({ classes: listClasses(db) }),
    updateClass: async ({ id, ...changes }) => updateClass(db, id, changes),
    classAdd: async ({ name }) => addClass(db, { name }),
    classRename: async ({ id, name }) => renameClass(db, id, name),
    importStart: async (request) => {
      await imports.start(request);
      return { started: true };
    },
    importState: async () => imports.state,
    promptSuggestions: async ({ classId, ...request }) => {
      const cls = listClasses(db).find((c) => c.id === classId);
      if (cls === undefined)
        throw new WinnowError(
          `There is no class with id ${classId}.`,
          "Choose one of the open project's classes (listClasses gives their ids); reload the Classes screen if another project was opened.",
        );
      return promptSuggestionsFor(cls, request);
    },
    runStart: async (request) => {
      if (remedies.running)
        throw new WinnowError(
          'A remedy is being applied in this project.',
          'Wait until it is done (the Label issues screen shows it), then start the run.',
        );
      if (imports.running)
        throw new WinnowError(
          'An import is going in this project.',
          'Wait until it is done (the Project screen shows it), then start the run.',
        );
      if ('resume' in request) void jobs.start('resume');
      else {
        const { generator, encoder, clip, ...settings } = request;
        void jobs.start(
          { ...defaultLoopParams, ...settings, rule: settings.rule ?? defaultRuleFor(settings.filter, 'run') },
          { generator: generator ?? EMBEDDED, encoder: encoder ?? EMBEDDED, ...(clip === undefined ? {} : { clip }) },
        );
      }
      return { started: true };
    },
    runStop: async ({ as }) => {
      jobs.stop(as);
      return { stopping: true };
    },
    runState: async () => ({
      job: jobs.state,
      runs: listRuns(db)
        .filter((r) => r.kind === 'loop')
        .map((r) => ({ id: r.id, status: r.status, startedAt: r.startedAt, finishedAt: r.finishedAt })),
    }),
    runMetrics: async ({ runId, kind }) => runMetrics(db, runId, kind),
    runDetail: async ({ runId }) => runDetail(db, runId),
    mapPoints: async () =>
      embeddingsMap(project, (stage, done, total) => emit({ type: 'mapProgress', stage, done, total })),
    exportDataset: async ({ name, status, labelIds, minContribution, minScore, formats }) =>
      exportDataset(project, join(project.dir, 'exports', name), {
        status,
        formats,
        ...(labelIds ? { labelIds } : {}),
        ...(minContribution === undefined ? {} : { minContribution }),
        ...(minScore === undefined ? {} : { minScore }),
      }),
    labelIssues: async ({ status }) => labelIssues(db, status),
    labelIssueInstances: async (request) => labelIssueInstances(db, request),
    applySuggestedLabels: async ({ ids }) => applySuggestedLabels(db, ids),
    remedyProposal: async ({ classId }) => proposeRemedy(db, classId),
    remedyApply: async (request) => {
      remedies.start(request);
      return { started: true };
    },
    remedyState: async () => remedies.state,
  };
}

export function isMethod(name: string): name is Method {
  return (METHODS as readonly string[]).includes(name);
}

/**
 * Validates an untrusted request and calls the method: what every transport does with what
 * arrives from a renderer or the network. Bad input is a WinnowError whose sentences name each
 * field in words and what to give instead (requestErrors.ts).
 */
export async function dispatch<M extends Method>(service: WinnowApi, method: M, raw: unknown): Promise<Responses[M]> {
  const parsed = requestSchemas[method].safeParse(raw ?? {});
  if (!parsed.success) throw new WinnowError(describeRequestIssues(method, parsed.error.issues, raw));
  const call = service[method] as (request: Request<M>) => Promise<Responses[M]>;
  return call(parsed.data as Request<M>);
}

/** `dispatch` with its outcome as a transport carries it; unexpected errors are logged and named. */
export async function handle<M extends Method>(
  service: WinnowApi,
  method: M,
  raw: unknown,
): Promise<Result<Responses[M]>> {
  try {
    return { ok: true, value: await dispatch(service, method, raw) };
  } catch (error) {
    if (error instanceof WinnowError)
      return { ok: false, error: error.message, ...(error.fix ? { fix: error.fix } : {}) };
    console.error(error);
    return { ok: false, error: `${method} failed: ${(error as Error).message}` };
  }
}
