// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { ClassStatus, ImportState, ProjectStatus } from '../../src/shared/api.ts';
import { stubServedEngine } from './servedEngine.ts';

// The served page (calls over HTTP) setting up a project: the first-run next steps, following an
// import job to its end (also across an outage of the server), and the Classes screen loading again
// when the server is back.
let states: ImportState[] = [];
let classesAnswer: () => unknown = () => ({ classes: [] });
let statusAnswer: unknown = null;
const server = stubServedEngine({
  importState: () => (states.length > 1 ? states.shift() : states[0]),
  importStart: () => ({ started: true }),
  listClasses: () => classesAnswer(),
  modelList: () => ({ models: [], provider: 'cpu', providerReason: '', providers: [] }),
  projectStatus: () => statusAnswer,
  runStart: () => ({ started: true }),
  runState: () => ({ job: { state: 'idle' }, runs: [] }),
});
const { calls } = server;

const { connection, reportUnreachable } = await import('../../src/renderer/src/connection.ts');
const { nextStep, screenStep } = await import('../../src/renderer/src/views/project/nextStep.ts');
const { useImportsStore } = await import('../../src/renderer/src/stores/imports.ts');
const { useProjectStore } = await import('../../src/renderer/src/stores/project.ts');
const { useRunStore } = await import('../../src/renderer/src/stores/runs.ts');
const { default: ClassesView } = await import('../../src/renderer/src/views/classes/ClassesView.vue');

function cls(name: string, train: number, pending = 0): ClassStatus {
  return {
    id: name.length,
    name,
    real: { train, val: 0, test: 0 },
    synthetic: { pending, accepted: 0, rejected: 0, overridden: 0 },
  };
}
function status(classes: ClassStatus[], runs = 0): ProjectStatus {
  return { dir: '/p', name: 'p', schemaVersion: 4, classes, runs, unfinishedRuns: [], exports: 0 };
}
const job = { kind: 'real', folder: '/data/real', split: 'train' } as const;
const running = (done: number, total: number | null): ImportState => ({
  state: 'running',
  job,
  stage: 'read',
  done,
  total,
});
const done: ImportState = {
  state: 'done',
  job,
  report: { imported: 3, classesCreated: [], perClass: [], skipped: [], skippedCount: 0, runId: null },
};

beforeEach(() => {
  setActivePinia(createPinia());
  calls.length = 0;
  server.online = true;
});

describe('the first-run next step', () => {
  it('goes classes, then real images of every class, then a run; none once there are synthetic images', () => {
    expect(nextStep(status([]))?.actions.map((a) => a.place)).toEqual(['classes', 'import-real']);
    const missing = nextStep(status([cls('shirt', 4), cls('dress', 0), cls('coat', 0)]));
    expect(missing?.text).toContain('for dress, coat');
    expect(missing?.actions.map((a) => a.place)).toEqual(['import-real']);
    expect(nextStep(status([cls('shirt', 4)]))?.actions.map((a) => a.place)).toEqual(['run', 'import-synthetic']);
    expect(nextStep(status([cls('shirt', 4, 1)]))).toBeNull();
    expect(nextStep(status([cls('shirt', 4)], 1))).toBeNull();
  });
});

describe('first-run guidance on the Run, Review, Audit and Export screens', () => {
  const places = (step: ReturnType<typeof screenStep>) => step?.actions.map((a) => a.place);

  it('says what the screen lacks, then the project’s next step, without a button to the screen itself', () => {
    const empty = status([]);
    expect(screenStep(empty, 'run')).toEqual(nextStep(empty));
    for (const screen of ['review', 'audit', 'export'] as const) {
      const step = screenStep(empty, screen);
      expect(step?.text).toBe(
        `Nothing to ${screen} yet: this project has no synthetic instances. ${nextStep(empty)?.text}`,
      );
      expect(places(step)).toEqual(['classes', 'import-real']);
    }
    const ready = status([cls('shirt', 4)]);
    expect(places(screenStep(ready, 'run'))).toEqual(['import-synthetic']);
    expect(places(screenStep(ready, 'review'))).toEqual(['run', 'import-synthetic']);
    expect(places(screenStep(status([cls('shirt', 0)]), 'export'))).toEqual(['import-real']);
  });

  it('after a run that made nothing, only the screens that need synthetic instances still guide', () => {
    const ranEmpty = status([cls('shirt', 4)], 1);
    expect(screenStep(ranEmpty, 'run')).toBeNull();
    for (const screen of ['review', 'audit', 'export'] as const)
      expect(places(screenStep(ranEmpty, screen))).toEqual(['run', 'import-synthetic']);
  });

  it('none once the project has synthetic instances', () => {
    for (const screen of ['run', 'review', 'audit', 'export'] as const)
      expect(screenStep(status([cls('shirt', 4, 1)]), screen)).toBeNull();
  });

  it('follows the project: its counts are fetched anew when a run starts and when it ends', async () => {
    const project = useProjectStore();
    const runs = useRunStore();
    project.status = status([cls('shirt', 4)]);
    expect(screenStep(project.status, 'run')).not.toBeNull();
    statusAnswer = status([cls('shirt', 4)], 1);
    await runs.start();
    await vi.waitFor(() => expect(project.status?.runs).toBe(1));
    expect(screenStep(project.status!, 'run')).toBeNull();

    statusAnswer = status([cls('shirt', 4, 3)], 1);
    await runs.onEvent({ type: 'finished', runId: null, status: 'done' });
    await vi.waitFor(() => expect(project.status?.classes[0]?.synthetic.pending).toBe(3));
    expect(calls.filter((c) => c === 'projectStatus')).toHaveLength(2);
  });
});

describe('following an import', () => {
  it('asks until the job ends, shows its progress, and calls back once', async () => {
    states = [{ state: 'idle' }, running(0, null), running(2, 3), done];
    const imports = useImportsStore();
    const ended = vi.fn();
    const seen: ImportState[] = [];
    imports.$subscribe(() => seen.push(imports.job));
    imports.folder = '/data/real';
    // The screen opens (asking how the last job went) as an import starts: one loop follows the job.
    void imports.follow(ended);
    const started = imports.start(ended);
    // Opening the screen again meanwhile starts no second loop.
    void imports.follow(ended);
    await started;
    await vi.waitFor(() => expect(imports.job).toEqual(done), { timeout: 3000 });
    expect(seen).toEqual(expect.arrayContaining([running(0, null), running(2, 3), done]));
    expect(calls.filter((c) => c === 'importStart')).toHaveLength(1);
    await new Promise((wait) => setTimeout(wait, 1000));
    // Asked once per state, and no more once it is done; told once it is done.
    expect(calls.filter((c) => c === 'importState')).toHaveLength(4);
    expect(ended.mock.calls.length).toBeLessThanOrEqual(2);
    expect(imports.following).toBe(false);
  });

  it('asks again once the server is back when it went away meanwhile', async () => {
    states = [done];
    const imports = useImportsStore();
    const ended = vi.fn();
    server.online = false;
    await imports.follow(ended);
    expect(ended).not.toHaveBeenCalled();
    reportUnreachable();
    server.online = true;
    await vi.waitFor(() => expect(connection.state).toBe('connected'), { timeout: 3000 });
    await vi.waitFor(() => expect(ended).toHaveBeenCalledTimes(1));
    expect(imports.job).toEqual(done);
  });
});

describe('the Classes screen', () => {
  it('says what to do on an empty project, and loads again when the server is back', async () => {
    server.online = false;
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/', component: { render: () => null } }],
    });
    const wrapper = mount(ClassesView, { global: { plugins: [createPinia(), router] } });
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toContain('The engine is not reachable');
    expect(wrapper.find('[aria-label="Next step"]').text()).toContain('No classes yet.');
    reportUnreachable();
    classesAnswer = () => ({
      classes: [
        {
          id: 1,
          name: 'shirt',
          promptTemplates: ['a photo of a {label}'],
          negativePrompt: '',
          disambiguation: '',
          budgetWeight: 1,
        },
      ],
    });
    server.online = true;
    await vi.waitFor(() => expect(connection.state).toBe('connected'), { timeout: 3000 });
    await vi.waitFor(() => expect(wrapper.find('h2').exists()).toBe(true));
    expect(wrapper.find('h2').text()).toBe('shirt');
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
    expect(wrapper.find('[aria-label="Next step"]').exists()).toBe(false);
    wrapper.unmount();
  });
});
