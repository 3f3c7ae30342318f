/// <reference types="node" />
// (Node's types: this file reads the style sheet from disk; the renderer's tests are compiled without them.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The theme's text colours against the two backgrounds text is drawn on (the page and the panels),
// in light and dark mode, read from style.css's custom properties: WCAG AA asks 4.5:1 for body text.
const CSS = readFileSync(new URL('../../src/renderer/src/style.css', import.meta.url), 'utf8');

/** The custom properties set in the first `:root { … }` block at or after `from` in the style sheet. */
function variables(from: number): Record<string, string> {
  const block = CSS.slice(from).match(/:root\s*\{([^}]*)\}/)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((m) => [m[1], m[2]]));
}
const light = variables(0);
const dark = variables(CSS.indexOf('@media (prefers-color-scheme: dark)'));

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r = 0, g = 0, b = 0] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
/** WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21. */
function contrast(a: string, b: string): number {
  const [hi = 0, lo = 0] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('the theme’s text contrast', () => {
  it('computes WCAG ratios: black on white is 21, a colour on itself 1, #767676 on white just over 4.5', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 6);
    expect(contrast('#6b7280', '#6b7280')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });

  it('reads both modes’ colours from style.css', () => {
    for (const mode of [light, dark])
      for (const name of ['--bg', '--panel', '--text', '--muted', '--accent', '--good', '--bad', '--warn'])
        expect([name, mode[name]]).toEqual([name, expect.stringMatching(/^#[0-9a-f]{6}$/i)]);
    expect(dark['--bg']).not.toBe(light['--bg']);
  });

  for (const [modeName, mode] of [
    ['light', light],
    ['dark', dark],
  ] as const)
    it(`${modeName} mode: text, muted text, links, good, bad and warning reach 4.5:1 on the page and on panels`, () => {
      const ratios = Object.fromEntries(
        ['--text', '--muted', '--accent', '--good', '--bad', '--warn'].flatMap((fg) =>
          ['--bg', '--panel'].map((bg) => [`${fg} on ${bg}`, Number(contrast(mode[fg]!, mode[bg]!).toFixed(2))]),
        ),
      );
      const below = Object.entries(ratios).filter(([, ratio]) => ratio < 4.5);
      expect(below).toEqual([]);
    });
});
