import { defineStore } from 'pinia';
import type { ClassSettings, Request, Responses } from '../../../shared/api.ts';
import { api, describeError } from '../api.ts';
import { type ModelProblem, modelProblem } from './models.ts';

/** The most prompt templates a class may have (as updateClass accepts them). */
export const MAX_TEMPLATES = 50;

/** A class's "Suggest prompts" panel: what to ask with, and what came back. */
export interface SuggestPanel {
  open: boolean;
  /** A registered CLIP model to rank the suggestions, or '' for none. */
  clip: string;
  /** An OpenAI-compatible endpoint, or '' for the templates alone. */
  endpointUrl: string;
  /** The endpoint's model ('' asks for "default", as `winnow prompts` does). */
  endpointModel: string;
  /** How many prompts to ask the endpoint for. */
  count: number;
  loading: boolean;
  result: Responses['promptSuggestions'] | null;
  /** The CLIP model and endpoint the result was asked with, to name them beside it. */
  asked: { readonly clip: string | null; readonly endpoint: string | null } | null;
  /** The template being added. */
  adding: string | null;
  message: string | null;
  error: ModelProblem | null;
}

function newPanel(): SuggestPanel {
  return {
    open: true,
    clip: '',
    endpointUrl: '',
    endpointModel: '',
    count: 8,
    loading: false,
    result: null,
    asked: null,
    adding: null,
    message: null,
    error: null,
  };
}

/** What the panel's settings ask the engine, for `generator` ('' for the embedded one, the engine's default). */
export function suggestRequest(classId: number, panel: SuggestPanel, generator = ''): Request<'promptSuggestions'> {
  const url = panel.endpointUrl.trim();
  return {
    classId,
    ...(generator === '' ? {} : { generator }),
    ...(panel.clip === '' ? {} : { clip: panel.clip }),
    ...(url === '' ? {} : { endpoint: { url, model: panel.endpointModel.trim() || 'default' }, count: panel.count }),
  };
}

/**
 * The classes screen: each class's prompt templates, negative prompt, disambiguation and budget
 * weight, and its prompt suggestions (what `winnow prompts` does), whose templates can be added.
 */
export const useClassesStore = defineStore('classes', {
  state: () => ({
    classes: [] as ClassSettings[],
    saved: null as string | null,
    error: null as string | null,
    /** The suggestion panels, by class id. */
    panels: {} as Record<number, SuggestPanel>,
    /** The name in the "New class" field. */
    newName: '',
    /** The class being renamed, and the name typed for it. */
    renaming: null as number | null,
    renameTo: '',
    /** The generator the suggestions are for ('' for the embedded one): the engine says which styles it can draw. */
    generator: '',
  }),
  actions: {
    async load() {
      try {
        this.classes = [...(await api.listClasses({})).classes];
        this.error = null;
      } catch (error) {
        this.error = describeError(error);
      }
    },
    async save(
      c: ClassSettings,
      edits: { templates: string; negativePrompt: string; disambiguation: string; budgetWeight: number },
    ) {
      try {
        this.error = null;
        const updated = await api.updateClass({
          id: c.id,
          promptTemplates: edits.templates
            .split('\n')
            .map((t) => t.trim())
            .filter(Boolean),
          negativePrompt: edits.negativePrompt,
          disambiguation: edits.disambiguation,
          budgetWeight: edits.budgetWeight,
        });
        this.classes = this.classes.map((x) => (x.id === updated.id ? updated : x));
        this.saved = `Saved ${updated.name}.`;
      } catch (error) {
        this.error = `${c.name}: ${describeError(error)}`;
      }
    },
    /** Creates a class named as the "New class" field says; the class, or null when refused (the reason is in `error`). */
    async add(): Promise<ClassSettings | null> {
      const name = this.newName.trim();
      try {
        this.error = null;
        this.saved = null;
        const created = await api.classAdd({ name });
        this.classes = [...this.classes, created];
        this.newName = '';
        this.saved = `Created ${created.name}.`;
        return created;
      } catch (error) {
        this.error = describeError(error);
        return null;
      }
    },
    startRename(c: ClassSettings) {
      this.renaming = c.id;
      this.renameTo = c.name;
    },
    cancelRename() {
      this.renaming = null;
    },
    async rename(c: ClassSettings) {
      const name = this.renameTo.trim();
      if (name === c.name) {
        this.renaming = null;
        return;
      }
      try {
        this.error = null;
        this.saved = null;
        const renamed = await api.classRename({ id: c.id, name });
        this.classes = this.classes.map((x) => (x.id === renamed.id ? renamed : x));
        this.renaming = null;
        // {label} in its prompt templates is the name: the generator is asked for the new one from now on.
        this.saved = `Renamed ${c.name} to ${renamed.name}. Its prompts now say "${renamed.name}".`;
      } catch (error) {
        this.error = `${c.name}: ${describeError(error)}`;
      }
    },
    /** Opens a class's suggestion panel (as it was left), or closes it. */
    toggleSuggestions(classId: number) {
      const panel = this.panels[classId];
      if (panel) panel.open = !panel.open;
      else this.panels[classId] = newPanel();
    },
    async suggest(classId: number) {
      const panel = this.panels[classId];
      if (!panel || panel.loading) return;
      const request = suggestRequest(classId, panel, this.generator);
      panel.loading = true;
      panel.error = null;
      panel.message = null;
      panel.result = null;
      panel.asked = null;
      try {
        panel.result = await api.promptSuggestions(request);
        panel.asked = { clip: request.clip ?? null, endpoint: request.endpoint?.url ?? null };
      } catch (error) {
        panel.error = modelProblem(error);
      } finally {
        panel.loading = false;
      }
    },
    /**
     * Appends a suggestion's template to the class's stored templates; the class as it is now, or
     * null when it was not added (the reason is in the panel).
     */
    async addTemplate(classId: number, template: string): Promise<ClassSettings | null> {
      const panel = this.panels[classId];
      const c = this.classes.find((x) => x.id === classId);
      if (!panel || !c) return null;
      panel.error = null;
      panel.message = null;
      if (c.promptTemplates.includes(template)) {
        panel.message = `${c.name} already has "${template}".`;
        return null;
      }
      if (c.promptTemplates.length >= MAX_TEMPLATES) {
        panel.error = {
          message: `${c.name} has ${MAX_TEMPLATES} prompt templates, the most a class may have.`,
          problems: [],
          fix: 'Remove one from its prompt templates and save, then add this one.',
        };
        return null;
      }
      panel.adding = template;
      try {
        const updated = await api.updateClass({ id: classId, promptTemplates: [...c.promptTemplates, template] });
        this.classes = this.classes.map((x) => (x.id === updated.id ? updated : x));
        panel.message = `Added "${template}" to ${updated.name}'s prompt templates.`;
        return updated;
      } catch (error) {
        panel.error = modelProblem(error);
        return null;
      } finally {
        panel.adding = null;
      }
    },
  },
});
