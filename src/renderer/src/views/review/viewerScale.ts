/**
 * The viewer's scale rules. At or above 1 a scale is always a whole number, so each source pixel is
 * a square of equal screen pixels (a 28-px image never shows 2- and 3-px columns side by side);
 * below 1 (a large image fitted to the window) it is whatever fits.
 */

/** The largest scale that shows the whole image in the pane: whole when the image is smaller. */
export function fitScale(image: { width: number; height: number }, pane: { width: number; height: number }): number {
  const fit = Math.min(pane.width / image.width, pane.height / image.height);
  return fit >= 1 ? Math.floor(fit) : fit;
}

const MAX_SCALE = 64;
const STEP_BELOW_ONE = 1.25;

/** One zoom step in or out from `scale`: whole steps above 1, factors of 1.25 below it, never under a quarter of `fit`. */
export function zoomStep(scale: number, fit: number, direction: 'in' | 'out'): number {
  if (direction === 'in')
    return scale >= 1 ? Math.min(MAX_SCALE, Math.floor(scale) + 1) : Math.min(1, scale * STEP_BELOW_ONE);
  if (scale > 1) return Math.ceil(scale) - 1;
  return Math.max(Math.min(fit, 1) / 4, scale / STEP_BELOW_ONE);
}
