import type { MapPoints } from '../../../../shared/api.ts';
import { formatScore } from '../../../../shared/scoreKinds.ts';
import { roundNumber } from '../../rounds.ts';

export const COLOUR_BYS = ['label', 'score', 'decision', 'round'] as const;
export type ColourBy = (typeof COLOUR_BYS)[number];

/** One entry of the legend: what a colour means. */
export interface LegendEntry {
  readonly text: string;
  readonly colour: string;
}

/**
 * What the scatterplot draws a colouring with: each point's category (pointsGl.ts's colour index,
 * an index into `colours`) and the legend. Every colouring is categorical so that points without a
 * value (real images have no decision, unscored instances no score) get a colour of their own.
 */
export interface Colouring {
  readonly category: Float32Array;
  readonly colours: readonly string[];
  readonly legend: readonly LegendEntry[];
}

/** Tableau 10: distinct hues for labels. */
const CATEGORICAL = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
/** Viridis at ten stops: low to high, readable on light and dark backgrounds. */
const SEQUENTIAL = [
  '#440154',
  '#482878',
  '#3e4989',
  '#31688e',
  '#26828e',
  '#1f9e89',
  '#35b779',
  '#6ece58',
  '#b5de2b',
  '#fde725',
];
const NONE = '#8a8f98';
export const DECISION_COLOURS = { real: '#4b5563', pending: '#d97706', accepted: '#16a34a', rejected: '#dc2626' };

/** The sequential colour at t in [0, 1] (nearest of the ten stops). */
function sequential(t: number): string {
  return SEQUENTIAL[Math.min(SEQUENTIAL.length - 1, Math.max(0, Math.round(t * (SEQUENTIAL.length - 1))))] as string;
}

/** Each point's score of one kind (null: none), for colouring by a kind other than quality. */
export interface PointScores {
  readonly kind: string;
  readonly values: readonly (number | null)[];
}

/** Colours the map by `by`; by score, of `scores`' kind when given (a saved view's), else quality. */
export function colouring(
  points: MapPoints,
  by: ColourBy,
  classes: readonly { id: number; name: string }[],
  scores: PointScores = { kind: 'quality', values: points.quality },
): Colouring {
  const n = points.id.length;
  if (by === 'label') {
    const index = new Map(classes.map((c, k) => [c.id, k]));
    const colours = classes.map((_, k) => CATEGORICAL[k % CATEGORICAL.length] as string);
    return {
      category: Float32Array.from(points.labelId, (id) => index.get(id) ?? 0),
      colours,
      legend: classes.map((c, k) => ({ text: c.name, colour: colours[k] as string })),
    };
  }
  if (by === 'decision') {
    const order = ['real', 'pending', 'accepted', 'rejected'] as const;
    return {
      category: Float32Array.from(points.status, (s) => order.indexOf(s ?? 'real')),
      colours: order.map((o) => DECISION_COLOURS[o]),
      legend: order.map((o) => ({ text: o === 'real' ? 'real image' : o, colour: DECISION_COLOURS[o] })),
    };
  }
  if (by === 'round') {
    const rounds = Math.max(0, ...points.round.map((r) => (r === null ? 0 : r + 1)));
    const colours = [
      NONE,
      ...Array.from({ length: rounds }, (_, r) => sequential(rounds === 1 ? 1 : r / (rounds - 1))),
    ];
    const shown = rounds <= 12 ? [...Array(rounds).keys()] : [0, Math.floor((rounds - 1) / 2), rounds - 1];
    return {
      category: Float32Array.from(points.round, (r) => (r === null ? 0 : r + 1)),
      colours,
      legend: [
        { text: 'real or imported', colour: NONE },
        ...shown.map((r) => ({ text: `round ${roundNumber(r)}`, colour: colours[r + 1] as string })),
      ],
    };
  }
  // Score: ten equal bins over the map's range of the kind, then "no score".
  const { kind, values } = scores;
  const scored = values.filter((q): q is number => q !== null);
  const low = Math.min(...scored);
  const high = Math.max(...scored);
  const bins = SEQUENTIAL.length;
  const width = (high - low) / bins || 1;
  const binOf = (q: number) => Math.min(bins - 1, Math.floor((q - low) / width));
  return {
    category: Float32Array.from({ length: n }, (_, i) => {
      const q = values[i];
      return q === null || q === undefined ? bins : binOf(q);
    }),
    colours: [...SEQUENTIAL, NONE],
    legend:
      scored.length === 0
        ? [{ text: 'no scores yet', colour: NONE }]
        : [
            { text: `${kind} ${formatScore(kind, low)} (lowest)`, colour: SEQUENTIAL[0] as string },
            { text: `${kind} ${formatScore(kind, high)} (highest)`, colour: SEQUENTIAL[bins - 1] as string },
            { text: 'no score (real images, unscored)', colour: NONE },
          ],
  };
}

/** The colour of points a saved view leaves out: faint, so what it keeps stands out. */
export const OUTSIDE_VIEW = '#d8dbe0';

/** A colouring with the points not kept (`keep[i]` 0) in OUTSIDE_VIEW, named in the legend. */
export function outsideView(c: Colouring, keep: Uint8Array, viewName: string): Colouring {
  const outside = c.colours.length;
  return {
    category: c.category.map((category, i) => (keep[i] ? category : outside)),
    colours: [...c.colours, OUTSIDE_VIEW],
    legend: [...c.legend, { text: `not in the view "${viewName}"`, colour: OUTSIDE_VIEW }],
  };
}

/**
 * What a point is, drawn by size and opacity (pointsGl.ts): synthetic (0), real
 * (1, larger and opaque) or synthetic far from every real image of its label (2, largest).
 */
export const KIND_SIZES = [3, 6, 8];
export const KIND_OPACITIES = [0.55, 1, 1];
export function kindOf(points: MapPoints): Float32Array {
  return Float32Array.from(points.id, (_, i) => (i < points.real ? 1 : points.far[i] ? 2 : 0));
}
