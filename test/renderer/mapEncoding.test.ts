import { describe, expect, it } from 'vitest';
import type { MapPoints } from '../../src/shared/api.ts';
import {
  colouring,
  DECISION_COLOURS,
  kindOf,
  OUTSIDE_VIEW,
  outsideView,
} from '../../src/renderer/src/views/map/encoding.ts';
import { nearestPoint, pointsInPolygon } from '../../src/renderer/src/views/map/picking.ts';

// The map's colourings and picking, on a map of one real image and three instances.
const points: MapPoints = {
  encoderId: 'e',
  cached: true,
  seconds: 0,
  fitted: 4,
  withoutFeatures: 0,
  farBelow: Math.log(1 / 2),
  real: 1,
  x: [0, 0.5, -0.5, 0.9],
  y: [0, 0.5, -0.5, -0.9],
  id: [7, 1, 2, 3],
  imageHash: ['a', 'b', 'c', 'd'],
  labelId: [10, 11, 10, 12],
  status: [null, 'pending', 'accepted', 'rejected'],
  round: [null, 0, 2, null],
  quality: [null, -3, -1, -2],
  realism: [null, -0.1, -2, 0],
  far: [false, false, true, false],
};
const classes = [
  { id: 10, name: 'shirt' },
  { id: 11, name: 'boot' },
  { id: 12, name: 'bag' },
];

describe('the map colourings', () => {
  it('by label: one colour per class, in the classes’ order', () => {
    const c = colouring(points, 'label', classes);
    expect(Array.from(c.category)).toEqual([0, 1, 0, 2]);
    expect(c.legend.map((l) => l.text)).toEqual(['shirt', 'boot', 'bag']);
  });

  it('by decision: real images apart from pending, accepted and rejected', () => {
    const c = colouring(points, 'decision', classes);
    expect(Array.from(c.category)).toEqual([0, 1, 2, 3]);
    expect(c.colours[c.category[3] as number]).toBe(DECISION_COLOURS.rejected);
  });

  it('by score: ten bins from the lowest to the highest quality, unscored apart', () => {
    const c = colouring(points, 'score', classes);
    // -3 is the lowest (bin 0), -1 the highest (bin 9), -2 halfway (bin 5); the real image has no score.
    expect(Array.from(c.category)).toEqual([10, 0, 9, 5]);
    expect(c.legend[0]?.text).toBe('quality -3.000 (lowest)');
  });

  it('by round: rounds from 1, real and imported apart', () => {
    const c = colouring(points, 'round', classes);
    expect(Array.from(c.category)).toEqual([0, 1, 3, 0]);
    expect(c.legend.map((l) => l.text)).toEqual(['real or imported', 'round 1', 'round 2', 'round 3']);
  });

  it('draws real images and far instances apart from the other instances', () => {
    expect(Array.from(kindOf(points))).toEqual([1, 0, 2, 0]);
  });
});

describe('picking on the map', () => {
  it('finds the nearest point within the radius, or none', () => {
    expect(nearestPoint(points.x, points.y, 0.45, 0.45, 0.1)).toBe(1);
    expect(nearestPoint(points.x, points.y, 0.25, 0.25, 0.1)).toBeNull();
  });

  it('finds the points inside a lasso', () => {
    const square: [number, number][] = [
      [-0.6, -0.6],
      [0.1, -0.6],
      [0.1, 0.1],
      [-0.6, 0.1],
    ];
    expect(pointsInPolygon(points.x, points.y, square)).toEqual([0, 2]);
    // A triangle that holds the bounding box's corner (0.9, -0.9) but not (0.5, 0.5).
    expect(
      pointsInPolygon(points.x, points.y, [
        [0.2, -1],
        [1, -1],
        [1, 1],
      ]),
    ).toEqual([3]);
  });
});

describe('a saved view on the map', () => {
  it('colours by score of its own kind, and draws what it leaves out in one faint colour named in the legend', () => {
    const scores = { kind: 'contribution', values: [null, 0.5, null, -0.5] };
    const c = colouring(points, 'score', classes, scores);
    // Highest and lowest of the view's kind at the ends of the scale; real and unscored: no score.
    expect(Array.from(c.category)).toEqual([10, 9, 10, 0]);
    expect(c.legend[0]?.text).toMatch(/^contribution .* \(lowest\)$/);
    const kept = outsideView(c, Uint8Array.from([0, 1, 0, 0]), 'good ones');
    expect(Array.from(kept.category)).toEqual([11, 9, 11, 11]);
    expect(kept.colours[11]).toBe(OUTSIDE_VIEW);
    expect(kept.legend.at(-1)).toEqual({ text: 'not in the view "good ones"', colour: OUTSIDE_VIEW });
  });
});
