/** A round as the UI counts them, from 1 (the store counts from 0); a dash for none. */
export function roundNumber(index: number | null | undefined): string {
  return index === null || index === undefined ? '—' : String(index + 1);
}
