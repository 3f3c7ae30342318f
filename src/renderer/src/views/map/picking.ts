/** Finding points on the map: the one under the pointer, and those inside a lasso. */

/** The point nearest (x, y) within `radius` (all in map units), or null. */
export function nearestPoint(
  xs: readonly number[],
  ys: readonly number[],
  x: number,
  y: number,
  radius: number,
): number | null {
  let best: number | null = null;
  let bestSquare = radius * radius;
  for (let i = 0; i < xs.length; i++) {
    const square = ((xs[i] as number) - x) ** 2 + ((ys[i] as number) - y) ** 2;
    if (square <= bestSquare) {
      best = i;
      bestSquare = square;
    }
  }
  return best;
}

/** The points inside a polygon (even–odd rule; vertices in map units), in index order. */
export function pointsInPolygon(
  xs: readonly number[],
  ys: readonly number[],
  polygon: readonly (readonly [number, number])[],
): number[] {
  if (polygon.length < 3) return [];
  let [left, bottom, right, top] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [px, py] of polygon) {
    [left, bottom, right, top] = [Math.min(left, px), Math.min(bottom, py), Math.max(right, px), Math.max(top, py)];
  }
  const inside: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    const y = ys[i] as number;
    if (x < left || x > right || y < bottom || y > top) continue;
    let odd = false;
    for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
      const [ax, ay] = polygon[a] as [number, number];
      const [bx, by] = polygon[b] as [number, number];
      if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) odd = !odd;
    }
    if (odd) inside.push(i);
  }
  return inside;
}
