// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import ShortcutHelp from '../../src/renderer/src/views/review/ShortcutHelp.vue';
import { countOf, describeBatch } from '../../src/renderer/src/views/review/batchText.ts';
import { commandOf, keyLabel, SHORTCUTS } from '../../src/renderer/src/views/review/shortcuts.ts';
import { fitScale, zoomStep } from '../../src/renderer/src/views/review/viewerScale.ts';

// The review screen's keyboard table, the viewer's scale rules and the undo toast's words.
function press(key: string, init: KeyboardEventInit = {}, target: Element = document.body): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, ...init });
  Object.defineProperty(event, 'target', { value: target });
  return event;
}

describe('review shortcuts', () => {
  it('map keys to commands, with Ctrl or ⌘ and Shift where the table says', () => {
    expect(commandOf(press('a'), false)).toBe('accept');
    expect(commandOf(press('a', { ctrlKey: true }), false)).toBe('selectAll');
    expect(commandOf(press('a', { metaKey: true }), false)).toBe('selectAll');
    expect(commandOf(press('t'), false)).toBe('tag');
    expect(commandOf(press('t'), true)).toBe('tag');
    expect(commandOf(press('t', {}, document.createElement('textarea')), false)).toBeUndefined();
    expect(commandOf(press('u'), false)).toBe('undo');
    expect(commandOf(press('U', { shiftKey: true }), false)).toBe('redo');
    expect(commandOf(press('z', { ctrlKey: true }), false)).toBe('undo');
    expect(commandOf(press('Z', { ctrlKey: true, shiftKey: true }), false)).toBe('redo');
    expect(commandOf(press('?', { shiftKey: true }), false)).toBe('help');
    expect(commandOf(press('+', { shiftKey: true }), true)).toBe('zoomIn');
    expect(commandOf(press('a', { altKey: true }), false)).toBeUndefined();
  });

  it('take an action once per press: a held key repeats moving and zooming only', () => {
    for (const key of ['a', 'r', 'c', 'u']) expect(commandOf(press(key, { repeat: true }), false), key).toBeUndefined();
    expect(commandOf(press('ArrowRight', { repeat: true }), true)).toBe('next');
    expect(commandOf(press('-', { repeat: true }), true)).toBe('zoomOut');
  });

  it('keep the viewer keys to the viewer', () => {
    for (const key of ['ArrowRight', 'j']) {
      expect(commandOf(press(key), true)).toBe('next');
      expect(commandOf(press(key), false)).toBeUndefined();
    }
    expect(commandOf(press('k'), true)).toBe('previous');
  });

  it('never fire while focus is in a form control', () => {
    const controls = ['input', 'select', 'textarea'].map((tag) => document.createElement(tag));
    const editable = document.createElement('div');
    editable.contentEditable = 'true';
    document.body.append(editable);
    for (const target of [...controls, editable]) {
      for (const key of ['a', 'r', 'c', 'u', 's', 'o', '?'])
        expect(commandOf(press(key, {}, target), false)).toBeUndefined();
      expect(commandOf(press('a', { ctrlKey: true }, target), false)).toBeUndefined();
    }
    // A button (a tile) is no form control: Enter on it opens the viewer.
    expect(commandOf(press('Enter', {}, document.createElement('button')), false)).toBe('open');
  });

  it('have one entry per command, each with keys and words', () => {
    expect(new Set(SHORTCUTS.map((s) => s.command)).size).toBe(SHORTCUTS.length);
    for (const s of SHORTCUTS) expect(s.keys.length * s.description.length).toBeGreaterThan(0);
    expect(keyLabel('Mod+Shift+z', false)).toBe('Ctrl+Shift+Z');
    expect(keyLabel('Mod+a', true)).toBe('⌘+A');
    expect(keyLabel('+', false)).toBe('+');
    expect(keyLabel('ArrowLeft', false)).toBe('←');
  });
});

describe('the shortcut help', () => {
  it('lists every row of the table the key handler reads, with its keys', () => {
    const help = mount(ShortcutHelp);
    const rows = help.findAll('tbody tr').map((row) => row.findAll('td').map((cell) => cell.text()));
    expect(rows).toHaveLength(SHORTCUTS.length);
    const listed = SHORTCUTS.filter((s) => s.where === 'review').concat(SHORTCUTS.filter((s) => s.where === 'viewer'));
    expect(rows.map((r) => r[1])).toEqual(listed.map((s) => s.description));
    expect(rows.map((r) => r[0]?.replace(/\s+/g, ''))).toEqual(
      listed.map((s) => s.keys.map((k) => keyLabel(k, false)).join('')),
    );
  });
});

describe('viewer scale', () => {
  it('fits small images by a whole factor and large ones by whatever fits', () => {
    expect(fitScale({ width: 28, height: 28 }, { width: 1000, height: 850 })).toBe(30);
    expect(fitScale({ width: 32, height: 16 }, { width: 100, height: 100 })).toBe(3);
    expect(fitScale({ width: 2000, height: 1000 }, { width: 1000, height: 1000 })).toBe(0.5);
  });

  it('zooms in whole steps above 1 and by 1.25 below it, never under a quarter of the fit', () => {
    expect(zoomStep(3, 3, 'in')).toBe(4);
    expect(zoomStep(3, 3, 'out')).toBe(2);
    expect(zoomStep(1, 3, 'out')).toBe(0.8);
    expect(zoomStep(0.9, 0.5, 'in')).toBe(1);
    expect(zoomStep(0.5, 0.5, 'in')).toBe(0.625);
    expect(zoomStep(0.125, 0.5, 'out')).toBe(0.125);
  });
});

describe('undo toast words', () => {
  it('count classes in plural and name a relabel’s target', () => {
    expect([countOf(1, 'shirt'), countOf(3, 'shirt'), countOf(2, 'dress')]).toEqual([
      '1 shirt',
      '3 shirts',
      '2 dresses',
    ]);
    const name = (id: number) => ({ 1: 'shirt', 2: 'coat' })[id] ?? '?';
    const batch = { batch: 'b', count: 3, fromLabelId: 1, toLabelId: 1 } as const;
    expect(describeBatch({ ...batch, action: 'accept' }, name)).toBe('accept of 3 shirts');
    expect(describeBatch({ ...batch, action: 'relabel', toLabelId: 2 }, name)).toBe('relabel of 3 shirts as coat');
    expect(describeBatch({ ...batch, action: 'tag', tags: ['blurry'] }, name)).toBe('tag "blurry" of 3 shirts');
    expect(describeBatch({ ...batch, action: 'untag', tags: ['a', 'b'] }, name)).toBe('untag "a", "b" of 3 shirts');
  });
});
