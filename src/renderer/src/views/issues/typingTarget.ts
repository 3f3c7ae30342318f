/**
 * Whether a key press belongs to a form control (a text field, a list, an editable area): there a
 * letter is typing, never a screen's shortcut. Buttons, tiles among them, are not such controls.
 */
export function isTypingTarget(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}
