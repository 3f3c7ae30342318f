// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { InstanceSummary } from '../../src/shared/api.ts';

// The review store against a fake engine whose listing obeys the status filter: an accepted
// instance leaves the "pending" grid, and the next moves up into its place.
const SHIRT = 1;
const instance = (id: number): InstanceSummary => ({
  id,
  imageHash: String(id).padStart(64, '0'),
  classId: SHIRT,
  labelId: SHIRT,
  status: 'pending',
  override: null,
  contribution: 0,
  score: 0,
  tags: [],
});
const pending = new Set([10, 11, 12, 13]);
const ok = (value: unknown) => ({ ok: true, value });
const fake = {
  classPage: async ({ offset, limit }: { offset: number; limit: number }) => {
    const items = [...pending].map(instance);
    return ok({ total: items.length, items: items.slice(offset, offset + limit) });
  },
  classExtremes: async () => ok({ best: [], worst: [] }),
  curate: async ({ ids, action }: { ids: number[]; action: string }) => {
    if (action === 'accept') for (const id of ids) pending.delete(id);
    return ok({ batch: 'b' });
  },
  instanceDetail: async ({ id }: { id: number }) => ok({ id }),
  nearestReal: async () => ok({ items: [] }),
  tagList: async () => ok({ tags: [] }),
  viewList: async () => ok({ views: [] }),
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useReviewStore } = await import('../../src/renderer/src/stores/review.ts');

describe('the viewer after a decision under a status filter', () => {
  it('shows what moved into the decided instance’s place, and → goes on from there without a skip', async () => {
    setActivePinia(createPinia());
    const review = useReviewStore();
    review.status = 'pending';
    await review.open(SHIRT);
    await review.openViewer('grid', 1);
    expect(review.viewer?.id).toBe(11);
    await review.curate('accept');
    expect(review.viewer).toMatchObject({ index: 1, id: 12 });
    await review.step(1);
    expect(review.viewer?.id).toBe(13);
  });
});
