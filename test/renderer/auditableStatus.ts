import type { ProjectStatus } from '../../src/shared/api.ts';

/** A project with real and synthetic images of shirt and t-shirt: no first-run guidance in the Audit view's way. */
export function auditableStatus(shirt: number, tshirt: number): ProjectStatus {
  return {
    classes: [shirt, tshirt].map((id) => ({
      id,
      name: id === shirt ? 'shirt' : 't-shirt',
      real: { train: 5, val: 5, test: 0 },
      synthetic: { pending: 0, accepted: 3, rejected: 1, overridden: 0 },
    })),
  } as unknown as ProjectStatus;
}
