import { defineStore } from 'pinia';
import type { ModelInfo, ProviderInfo } from '../../../shared/api.ts';
import { api } from '../api.ts';

/**
 * An engine error laid out for the screen: its first line, each problem it lists on a line of its
 * own ("  - …", as a folder check reports them), and the fix, all verbatim.
 */
export interface ModelProblem {
  readonly message: string;
  readonly problems: readonly string[];
  readonly fix: string | null;
}

export function modelProblem(error: unknown): ModelProblem {
  const e = error as Error & { fix?: string };
  const [first = String(error), ...rest] = (e.message ?? String(error)).split('\n');
  return {
    message: first,
    problems: rest.map((line) => line.replace(/^\s*-\s*/, '')).filter((line) => line.length > 0),
    fix: e.fix ?? null,
  };
}

/** Runs a store action, clearing the store's error first and putting any failure there, laid out. */
async function guarded(store: { error: ModelProblem | null }, work: () => Promise<void>): Promise<void> {
  try {
    store.error = null;
    await work();
  } catch (error) {
    store.error = modelProblem(error);
  }
}

/** The models screen: the registered Stable Diffusion and CLIP models, adding a folder, removing one. */
export const useModelsStore = defineStore('models', {
  state: () => ({
    models: [] as ModelInfo[],
    provider: null as string | null,
    providerReason: null as string | null,
    /** Every execution provider as the engine probed it, with what would make one usable. */
    providers: [] as ProviderInfo[],
    /** The add form. */
    folder: '',
    name: '',
    adding: false,
    /** The model whose removal awaits confirmation. */
    confirming: null as string | null,
    message: null as string | null,
    error: null as ModelProblem | null,
  }),
  getters: {
    generators: (s) => s.models.filter((m) => m.kind === 'stable-diffusion'),
    clips: (s) => s.models.filter((m) => m.kind === 'clip'),
  },
  actions: {
    async load() {
      await guarded(this, async () => {
        const list = await api.modelList({});
        this.models = [...list.models];
        this.provider = list.provider;
        this.providerReason = list.providerReason;
        this.providers = [...list.providers];
      });
    },
    async add() {
      this.adding = true;
      this.message = null;
      try {
        await guarded(this, async () => {
          const name = this.name.trim();
          const added = await api.modelAdd({ folder: this.folder.trim(), ...(name ? { name } : {}) });
          this.message = `Added ${added.name} (${added.kind === 'clip' ? 'CLIP' : 'Stable Diffusion'}).`;
          this.folder = '';
          this.name = '';
          await this.load();
        });
      } finally {
        this.adding = false;
      }
    },
    askRemove(name: string) {
      this.confirming = name;
      this.message = null;
    },
    cancelRemove() {
      this.confirming = null;
    },
    async remove(name: string) {
      this.confirming = null;
      this.message = null;
      await guarded(this, async () => {
        await api.modelRemove({ name });
        this.message = `Removed ${name} (its folder is untouched).`;
        await this.load();
      });
    },
  },
});
