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
const server = stubServedEngine({
  importState: () => (states.length > 1 ? states.shift() : states[0]),
  importStart: () => ({ started: true }),
  listClasses: () => classesAnswer(),
  modelList: () => ({ models: [], provider: 'cpu', providerReason: '', providers: [] }),
});
const { calls } = server;

const { connection, reportUnreachable } = await import('../../src/renderer/src/connection.ts');
const { nextStep } = await import('../../src/renderer/src/views/project/nextStep.ts');
const { useImportsStore } = await import('../../src/renderer/src/stores/imports.ts');
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
