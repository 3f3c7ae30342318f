// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../src/shared/api.ts';
import { tinyClipInfo } from './modelInfo.ts';
import ProblemReport from '../../src/renderer/src/views/models/ProblemReport.vue';

// The models store and the runs store's model choice, against a fake transport standing in for
// `window.winnow` (the preload's object), so each action's calls and outcomes are checked.
const clip = tinyClipInfo;
let registry: ModelInfo[] = [];
const calls: [string, unknown][] = [];
const BROKEN =
  '/x is not a usable CLIP model folder:\n  - vision_model.onnx is missing\n  - preprocessor_config.json is not valid JSON';

const fake = {
  modelList: async (request: unknown) => {
    calls.push(['modelList', request]);
    return { ok: true, value: { models: registry, provider: 'cpu', providerReason: 'no GPU', providers: [] } };
  },
  modelAdd: async (request: { folder: string; name?: string }) => {
    calls.push(['modelAdd', request]);
    if (request.folder === '/x') return { ok: false, error: BROKEN, fix: 'Export CLIP properly.' };
    registry = [...registry, clip];
    return { ok: true, value: clip };
  },
  modelRemove: async (request: { name: string }) => {
    calls.push(['modelRemove', request]);
    registry = registry.filter((m) => m.name !== request.name);
    return { ok: true, value: { removed: request.name } };
  },
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { modelProblem, useModelsStore } = await import('../../src/renderer/src/stores/models.ts');
const { useRunStore } = await import('../../src/renderer/src/stores/runs.ts');

beforeEach(() => {
  setActivePinia(createPinia());
  registry = [];
  calls.length = 0;
});

describe('the models store', () => {
  it('lays out an engine error: its first line, each listed problem, the fix, all verbatim', () => {
    const error = Object.assign(new Error(BROKEN), { fix: 'Export CLIP properly.' });
    expect(modelProblem(error)).toEqual({
      message: '/x is not a usable CLIP model folder:',
      problems: ['vision_model.onnx is missing', 'preprocessor_config.json is not valid JSON'],
      fix: 'Export CLIP properly.',
    });
    expect(modelProblem(new Error('No model named "x" is registered.'))).toEqual({
      message: 'No model named "x" is registered.',
      problems: [],
      fix: null,
    });
  });

  it('adds a folder (the name only when given), shows a refused one, removes after confirmation', async () => {
    const models = useModelsStore();
    await models.load();
    expect([models.models, models.provider, models.providerReason]).toEqual([[], 'cpu', 'no GPU']);

    models.folder = '/x';
    await models.add();
    expect(calls.at(-1)).toEqual(['modelAdd', { folder: '/x' }]);
    expect(models.error?.problems).toHaveLength(2);
    expect(models.folder).toBe('/x');

    models.folder = ' /models/tiny-clip ';
    models.name = 'tiny-clip';
    await models.add();
    expect(calls.at(-2)).toEqual(['modelAdd', { folder: '/models/tiny-clip', name: 'tiny-clip' }]);
    expect(models.error).toBeNull();
    expect(models.message).toBe('Added tiny-clip (CLIP).');
    expect([models.folder, models.name, models.adding]).toEqual(['', '', false]);
    expect(models.clips.map((m) => m.name)).toEqual(['tiny-clip']);
    expect(models.generators).toEqual([]);

    models.askRemove('tiny-clip');
    expect(models.confirming).toBe('tiny-clip');
    models.cancelRemove();
    expect(models.confirming).toBeNull();
    expect(calls.some(([method]) => method === 'modelRemove')).toBe(false);
    await models.remove('tiny-clip');
    expect(models.models).toEqual([]);
    expect(models.message).toMatch(/^Removed tiny-clip/);
  });

  it('renders a problem report as a list, with the fix', () => {
    const report = mount(ProblemReport, {
      props: { problem: { message: 'Bad folder:', problems: ['a is missing', 'b is wrong'], fix: 'Do this.' } },
    });
    expect(report.attributes('role')).toBe('alert');
    expect(report.findAll('li').map((li) => li.text())).toEqual(['a is missing', 'b is wrong']);
    expect(report.find('.fix').text()).toBe('Fix: Do this.');
  });
});

describe("the run store's rule", () => {
  it('follows the filter while left at its default, and stays once the user chose one', () => {
    const runs = useRunStore();
    expect(runs.settings.rule).toEqual({ kind: 'confident' });
    expect(runs.ruleValue).toBeNull();
    runs.setFilter('contribution');
    expect(runs.settings.rule).toEqual({ kind: 'class-percentile', keep: 0.7 });
    runs.setRuleValue(0.9);
    runs.setFilter('quality');
    expect(runs.settings).toMatchObject({ filter: 'quality', rule: { kind: 'class-percentile', keep: 0.9 } });
    runs.setRuleKind('confident');
    runs.setRuleValue(0.5);
    expect(runs.settings.rule).toEqual({ kind: 'confident' });
    // The validated rule chooses its own share: it has no number either.
    runs.setRuleKind('validated');
    expect(runs.ruleValue).toBeNull();
    runs.setRuleValue(0.5);
    expect(runs.settings.rule).toEqual({ kind: 'validated' });
  });
});

describe("the run store's models", () => {
  it('sends the chosen models; no CLIP score model means no clip filter', async () => {
    const runs = useRunStore();
    expect(runs.settings).toMatchObject({ generator: 'embedded', encoder: 'embedded' });
    expect(runs.clipFilterUsable).toBe(false);
    runs.chooseClip('tiny-clip');
    runs.settings.filter = 'clip';
    expect(runs.clipFilterUsable).toBe(true);
    runs.chooseClip('');
    expect(runs.settings.clip).toBeUndefined();
    expect(runs.settings.filter).toBe('quality');

    runs.settings.encoder = 'tiny-clip';
    runs.chooseClip('tiny-clip');
    runs.settings.generator = 'gone';
    runs.keepRegistered([clip]);
    expect(runs.settings).toMatchObject({ generator: 'embedded', encoder: 'tiny-clip', clip: 'tiny-clip' });
    runs.keepRegistered([]);
    expect(runs.settings).toMatchObject({ generator: 'embedded', encoder: 'embedded' });
    expect(runs.settings.clip).toBeUndefined();
  });
});
