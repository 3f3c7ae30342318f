/** Timestamps are ISO-8601 UTC strings: they sort as text and read well in exports. */
export function now(): string {
  return new Date().toISOString();
}
