import type { ModelInfo } from '../../src/shared/api.ts';

/** A registered CLIP model as the API describes it, for renderer tests with a fake transport. */
export const tinyClipInfo: ModelInfo = {
  name: 'tiny-clip',
  kind: 'clip',
  path: '/models/tiny-clip',
  id: 'tiny-clip@0123456789ab',
  sizeBytes: 239_000,
  precision: 'fp32',
  addedAt: '2026-01-01T00:00:00.000Z',
};
