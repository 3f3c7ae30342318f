/**
 * How a class turns into text. Its disambiguation (seed 003: "bun" → "bun (a bread roll)") goes into
 * every prompt made from its templates, so a free-text generator draws the meant sense, and into
 * the text CLIP compares images with.
 */
export interface ClassText {
  readonly name: string;
  readonly disambiguation: string;
}

/** The label a template's {label} becomes: the name, with its disambiguation when it has one. */
export function disambiguatedLabel(cls: ClassText): string {
  const meaning = cls.disambiguation.trim();
  return meaning === '' ? cls.name : `${cls.name} (${meaning})`;
}

export function fillTemplate(template: string, label: string): string {
  return template.replaceAll('{label}', label);
}

/** The prompt a class's template makes. */
export function classPrompt(template: string, cls: ClassText): string {
  return fillTemplate(template, disambiguatedLabel(cls));
}

/** What a class means to CLIP: "a photo of bun, a bread roll". */
export function classMeaning(cls: ClassText): string {
  const meaning = cls.disambiguation.trim();
  return `a photo of ${meaning === '' ? `a ${cls.name}` : `${cls.name}, ${meaning}`}`;
}
