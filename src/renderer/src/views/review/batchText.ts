import type { CuratedBatch } from '../../../../shared/api.ts';

/** A class name counted: "1 shirt", "3 shirts", "2 dresses". */
export function countOf(count: number, name: string): string {
  if (count === 1) return `1 ${name}`;
  return `${count} ${/(s|x|z|ch|sh)$/.test(name) ? `${name}es` : `${name}s`}`;
}

/**
 * What an undone or redone batch did, in words: "accept of 3 shirts", "relabel of 1 shirt as coat",
 * "tag "blurry" of 2 shirts".
 */
export function describeBatch(batch: CuratedBatch, className: (id: number) => string): string {
  const tags = batch.tags?.length ? ` ${batch.tags.map((t) => `"${t}"`).join(', ')}` : '';
  const what = `${batch.action}${tags} of ${countOf(batch.count, className(batch.fromLabelId))}`;
  return batch.action === 'relabel' ? `${what} as ${className(batch.toLabelId)}` : what;
}
