import { defineStore } from 'pinia';
import type { ClassSettings } from '../../../shared/api.ts';
import { api, describeError } from '../api.ts';

/** The classes screen: each class's prompt templates, negative prompt, disambiguation and budget weight. */
export const useClassesStore = defineStore('classes', {
  state: () => ({ classes: [] as ClassSettings[], saved: null as string | null, error: null as string | null }),
  actions: {
    async load() {
      this.classes = [...(await api.listClasses({})).classes];
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
  },
});
