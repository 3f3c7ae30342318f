/**
 * Every keyboard shortcut of the review screen, in one table: the key handler matches events
 * against it and the help overlay (?) lists it, so the two cannot disagree.
 */
export type ReviewCommand =
  | 'accept'
  | 'reject'
  | 'clear'
  | 'tag'
  | 'undo'
  | 'redo'
  | 'similar'
  | 'selectAll'
  | 'escape'
  | 'selectionOnly'
  | 'open'
  | 'previous'
  | 'next'
  | 'zoomIn'
  | 'zoomOut'
  | 'fit'
  | 'help';

export interface Shortcut {
  readonly command: ReviewCommand;
  /** Key combinations: a `KeyboardEvent.key`, with `Mod+` (Ctrl, or ⌘ on a Mac) and `Shift+` before it. */
  readonly keys: readonly string[];
  readonly description: string;
  /** Where it works: anywhere on the review screen, or only while the viewer is open. */
  readonly where: 'review' | 'viewer';
  /** Whether a held key repeats it (moving, zooming); an action is taken once per press. */
  readonly repeats?: true;
}

export const SHORTCUTS: readonly Shortcut[] = [
  {
    command: 'accept',
    keys: ['a'],
    description: 'Accept the selection (in the viewer: the image shown)',
    where: 'review',
  },
  { command: 'reject', keys: ['r'], description: 'Reject the selection', where: 'review' },
  { command: 'clear', keys: ['c'], description: "Clear the curator's decision on the selection", where: 'review' },
  {
    command: 'tag',
    keys: ['t'],
    description: 'Tag the selection (in the viewer: the image shown): type a tag, Enter applies it',
    where: 'review',
  },
  {
    command: 'undo',
    keys: ['u', 'Mod+z'],
    description: "Undo the latest action on this class's instances",
    where: 'review',
  },
  { command: 'redo', keys: ['Shift+u', 'Mod+Shift+z'], description: 'Redo what was undone last', where: 'review' },
  { command: 'similar', keys: ['s'], description: 'Select instances similar to the first selected', where: 'review' },
  { command: 'selectAll', keys: ['Mod+a'], description: 'Select every instance the filters show', where: 'review' },
  {
    command: 'selectionOnly',
    keys: ['o'],
    description: 'Show only the selection in the grid (toggle)',
    where: 'review',
  },
  {
    command: 'open',
    keys: ['Enter'],
    description: 'Open the focused or first selected instance in the viewer',
    where: 'review',
  },
  {
    command: 'escape',
    keys: ['Escape'],
    description: 'Close the viewer or this help; else clear the selection',
    where: 'review',
  },
  { command: 'help', keys: ['?'], description: 'Show or hide this list of shortcuts', where: 'review' },
  {
    command: 'previous',
    keys: ['ArrowLeft', 'k'],
    description: 'Previous instance in the current order',
    where: 'viewer',
    repeats: true,
  },
  {
    command: 'next',
    keys: ['ArrowRight', 'j'],
    description: 'Next instance in the current order',
    where: 'viewer',
    repeats: true,
  },
  {
    command: 'zoomIn',
    keys: ['+', '='],
    description: 'Zoom in (also the mouse wheel; drag to pan)',
    where: 'viewer',
    repeats: true,
  },
  { command: 'zoomOut', keys: ['-'], description: 'Zoom out', where: 'viewer', repeats: true },
  { command: 'fit', keys: ['0'], description: 'Fit the image to the window again', where: 'viewer' },
];

/** Whether an event's target takes typing: there, letters are text, not commands. */
export function isFormControl(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName);
}

/** Whether an event is a key combination of the table. */
export function matchesKeys(event: KeyboardEvent, keys: string): boolean {
  const parts = keys.split('+');
  // `+` itself is a key: "Mod++" would split into empties.
  const key = parts.at(-1) === '' ? '+' : (parts.at(-1) as string);
  const mod = parts.includes('Mod');
  if (mod !== (event.ctrlKey || event.metaKey) || event.altKey) return false;
  // Shift matters for letters only: `?` and `+` are typed with it on most layouts.
  if (/^[a-z]$/.test(key)) return parts.includes('Shift') === event.shiftKey && event.key.toLowerCase() === key;
  return event.key === key;
}

/**
 * The command a key press asks for, among those that work where the user is; undefined for none,
 * and for a held key's repeats of an action (holding A would accept again and again, each an undo step).
 */
export function commandOf(event: KeyboardEvent, viewerOpen: boolean): ReviewCommand | undefined {
  if (isFormControl(event.target)) return undefined;
  const shortcut = SHORTCUTS.find(
    (s) => (viewerOpen || s.where === 'review') && s.keys.some((k) => matchesKeys(event, k)),
  );
  return shortcut === undefined || (event.repeat && !shortcut.repeats) ? undefined : shortcut.command;
}

/** A key combination as the help overlay writes it. */
export function keyLabel(keys: string, mac: boolean): string {
  const names: Record<string, string> = { ArrowLeft: '←', ArrowRight: '→', Escape: 'Esc', Mod: mac ? '⌘' : 'Ctrl' };
  return keys
    .split(/\+(?=.)/)
    .map((part) => names[part] ?? (part.length === 1 ? part.toUpperCase() : part))
    .join('+');
}
