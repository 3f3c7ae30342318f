import { defineStore } from 'pinia';
import type { Responses } from '../../../shared/api.ts';
import { api, describeError } from '../api.ts';

type Format = 'imagefolder' | 'csv' | 'jsonl' | 'coco';

/** The export screen: filters, formats, a destination name, and the last export's summary. */
export const useExportStore = defineStore('exports', {
  state: () => ({
    name: `export-${new Date().toISOString().slice(0, 10)}`,
    status: 'accepted' as 'accepted' | 'rejected' | 'pending' | 'all',
    labelIds: [] as number[],
    /** The least default-ranking score (quality) to export; '' for no minimum. */
    minScore: '' as number | '',
    formats: ['imagefolder', 'csv', 'jsonl', 'coco'] as Format[],
    busy: false,
    summary: null as Responses['exportDataset'] | null,
    error: null as string | null,
  }),
  actions: {
    async run() {
      this.busy = true;
      this.error = null;
      try {
        this.summary = await api.exportDataset({
          name: this.name,
          status: this.status,
          formats: this.formats,
          ...(this.labelIds.length > 0 ? { labelIds: this.labelIds } : {}),
          ...(this.minScore === '' ? {} : { minScore: this.minScore }),
        });
      } catch (error) {
        this.error = describeError(error);
      } finally {
        this.busy = false;
      }
    },
  },
});
