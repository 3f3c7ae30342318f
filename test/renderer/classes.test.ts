// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, type Pinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClassSettings, PromptSuggestion } from '../../src/shared/api.ts';
import { tinyClipInfo } from './modelInfo.ts';

// The classes store's prompt suggestions and their panel, against a fake transport standing in for
// `window.winnow` (the preload's object), so each action's calls and outcomes are checked.
const bun: ClassSettings = {
  id: 3,
  name: 'bun',
  promptTemplates: ['a photo of a {label}'],
  negativePrompt: '',
  disambiguation: 'a bread roll',
  budgetWeight: 1,
  guidanceScale: null,
};
const clip = tinyClipInfo;
const RANKED: PromptSuggestion[] = [
  {
    prompt: 'a photo of a bun (a bread roll) on a table',
    template: 'a photo of a {label} on a table',
    source: 'template',
    clipSimilarity: 0.8123,
  },
  { prompt: 'a bread roll in a basket', template: null, source: 'endpoint', clipSimilarity: 0.7 },
  {
    prompt: 'a photo of a bun (a bread roll)',
    template: 'a photo of a {label}',
    source: 'template',
    clipSimilarity: 0.5,
  },
];
let stored: ClassSettings = bun;
let answer: { ok: true; value: unknown } | { ok: false; error: string; fix?: string };
const calls: [string, unknown][] = [];
/** When set, suggestions wait for it: the panel is seen while the engine works. */
let gate: Promise<void> | null = null;

const fake = {
  listClasses: async (request: unknown) => {
    calls.push(['listClasses', request]);
    return { ok: true, value: { classes: [stored] } };
  },
  updateClass: async (request: { id: number; promptTemplates: string[] }) => {
    calls.push(['updateClass', request]);
    stored = { ...stored, promptTemplates: request.promptTemplates };
    return { ok: true, value: stored };
  },
  promptSuggestions: async (request: unknown) => {
    calls.push(['promptSuggestions', request]);
    await gate;
    return answer;
  },
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { MAX_TEMPLATES, suggestRequest, useClassesStore } = await import('../../src/renderer/src/stores/classes.ts');
const { default: PromptSuggestions } = await import('../../src/renderer/src/views/classes/PromptSuggestions.vue');

let pinia: Pinia;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  stored = bun;
  answer = { ok: true, value: { suggestions: RANKED } };
  calls.length = 0;
});

describe("the classes store's prompt suggestions", () => {
  it('asks with the panel: a CLIP model when chosen, an endpoint (model "default" unless named) with its count', async () => {
    const store = useClassesStore();
    store.toggleSuggestions(3);
    const panel = store.panels[3]!;
    expect(suggestRequest(3, panel)).toEqual({ classId: 3 });
    panel.clip = 'tiny-clip';
    panel.endpointUrl = ' http://localhost:8000/v1 ';
    panel.count = 4;
    expect(suggestRequest(3, panel)).toEqual({
      classId: 3,
      clip: 'tiny-clip',
      endpoint: { url: 'http://localhost:8000/v1', model: 'default' },
      count: 4,
    });
    panel.endpointModel = 'llama';
    expect(suggestRequest(3, panel).endpoint).toEqual({ url: 'http://localhost:8000/v1', model: 'llama' });

    const pending = store.suggest(3);
    expect(panel.loading).toBe(true);
    await pending;
    expect(calls.at(-1)).toEqual(['promptSuggestions', suggestRequest(3, panel)]);
    expect([panel.loading, panel.result?.suggestions, panel.asked]).toEqual([
      false,
      RANKED,
      { clip: 'tiny-clip', endpoint: 'http://localhost:8000/v1' },
    ]);

    // Closing keeps what it showed; a failure is laid out with its fix.
    store.toggleSuggestions(3);
    expect(panel.open).toBe(false);
    store.toggleSuggestions(3);
    expect(store.panels[3]!.result?.suggestions).toEqual(RANKED);
    answer = { ok: false, error: 'No model named "gone" is registered.', fix: 'Add it first.' };
    await store.suggest(3);
    expect(panel.result).toBeNull();
    expect(panel.error).toEqual({
      message: 'No model named "gone" is registered.',
      problems: [],
      fix: 'Add it first.',
    });
  });

  it("appends a template to the class's stored templates, once, and at most 50", async () => {
    const store = useClassesStore();
    await store.load();
    store.toggleSuggestions(3);
    const panel = store.panels[3]!;
    const updated = await store.addTemplate(3, 'a photo of a {label} on a table');
    expect(calls.at(-1)).toEqual([
      'updateClass',
      { id: 3, promptTemplates: ['a photo of a {label}', 'a photo of a {label} on a table'] },
    ]);
    expect(updated?.promptTemplates).toHaveLength(2);
    expect(store.classes[0]!.promptTemplates).toEqual(updated?.promptTemplates);
    expect(panel.message).toBe(`Added "a photo of a {label} on a table" to bun's prompt templates.`);

    calls.length = 0;
    expect(await store.addTemplate(3, 'a photo of a {label}')).toBeNull();
    expect(panel.message).toBe('bun already has "a photo of a {label}".');
    store.classes = [{ ...bun, promptTemplates: Array.from({ length: MAX_TEMPLATES }, (_, i) => `${i} {label}`) }];
    expect(await store.addTemplate(3, 'a sketch of a {label}')).toBeNull();
    expect(panel.error?.fix).toMatch(/Remove one/);
    expect(calls).toEqual([]);
  });
});

describe('the prompt suggestions panel', () => {
  async function panelFor(result: unknown) {
    const store = useClassesStore();
    await store.load();
    store.toggleSuggestions(3);
    answer = { ok: true, value: result };
    const wrapper = mount(PromptSuggestions, {
      props: { cls: store.classes[0]!, clips: [clip] },
      global: { plugins: [pinia] },
    });
    return { store, wrapper };
  }

  it('offers the CLIP models, lists the ranked suggestions in order, says why one cannot be added, adds another', async () => {
    const { store, wrapper } = await panelFor({ suggestions: RANKED });
    expect(wrapper.findAll('select option').map((o) => o.text())).toEqual(['none', 'tiny-clip']);
    expect(wrapper.find('input[aria-label="Endpoint model"]').attributes('disabled')).toBeDefined();
    await wrapper.find('select').setValue('tiny-clip');
    let open = () => {};
    gate = new Promise((done) => (open = done));
    await wrapper.find('form').trigger('submit');
    expect(wrapper.find('button[type="submit"]').text()).toBe('Suggesting…');
    expect(wrapper.find('button[type="submit"]').attributes('disabled')).toBeDefined();
    expect(wrapper.find('[role="status"]').text()).toBe('Suggesting prompts for bun…');
    expect(wrapper.attributes('aria-busy')).toBe('true');
    open();
    gate = null;
    await flushPromises();
    expect(wrapper.find('button[type="submit"]').text()).toBe('Suggest');
    expect(calls.at(-1)).toEqual(['promptSuggestions', { classId: 3, clip: 'tiny-clip' }]);

    const rows = wrapper.findAll('tbody tr');
    expect(rows.map((r) => r.find('.prompt').text())).toEqual(RANKED.map((s) => s.prompt));
    expect(rows.map((r) => r.find('.similarity').text())).toEqual(['0.812', '0.700', '0.500']);
    expect(wrapper.find('caption').text()).toMatch(/most similar to the class's meaning first \(CLIP: tiny-clip\)/);
    expect(rows[1]!.find('button').exists()).toBe(false);
    expect(rows[1]!.find('.why').text()).toMatch(
      /^Cannot be added: it never names "bun", and a template needs \{label\}/,
    );
    expect(rows[2]!.find('button').text()).toBe('In templates');
    expect(rows[2]!.find('button').attributes('disabled')).toBeDefined();

    await rows[0]!.find('button').trigger('click');
    await flushPromises();
    expect(wrapper.emitted('added')).toEqual([['a photo of a {label} on a table']]);
    expect(store.classes[0]!.promptTemplates).toContain('a photo of a {label} on a table');
    await wrapper.setProps({ cls: store.classes[0]! });
    expect(wrapper.findAll('tbody tr')[0]!.find('button').text()).toBe('In templates');
    expect(wrapper.find('[role="status"]').text()).toMatch(/^Added "a photo of a \{label\} on a table" to bun's/);
  });

  it('unranked: no similarity column; a failed endpoint is a notice naming it; an error shows its fix', async () => {
    const { store, wrapper } = await panelFor({
      suggestions: RANKED.map(({ clipSimilarity: _, ...s }) => s),
      endpointError: 'fetch failed',
    });
    store.panels[3]!.endpointUrl = 'http://127.0.0.1:1/v1';
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.findAll('th').map((th) => th.text())).toEqual(['#', 'Prompt', 'Source', '']);
    expect(wrapper.find('.notice').text()).toBe('Templates only: fetch failed (http://127.0.0.1:1/v1)');

    answer = { ok: false, error: 'There is no class with id 3.', fix: 'Reload the Classes screen.' };
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toMatch(
      /There is no class with id 3\.\s*Fix: Reload the Classes screen\./,
    );
    expect(wrapper.find('table').exists()).toBe(false);
  });
});
