/** A stored run setting as text: numbers and words as they are, a rule or a list as compact JSON. */
export function settingText(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The names of a run's settings and models, in the order stored, for a read-only list. */
export function settingRows(detail: {
  settings: Readonly<Record<string, unknown>>;
  models: Readonly<Record<string, string>>;
}): { name: string; value: unknown }[] {
  return [
    ...Object.entries(detail.settings).map(([name, value]) => ({ name, value })),
    ...Object.entries(detail.models).map(([role, id]) => ({ name: `model: ${role}`, value: id })),
  ];
}
