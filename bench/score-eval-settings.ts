// The settings bench/score-eval.ts chooses leave-one-dataset-out: for each reported dataset, each
// setting takes the candidate with the best mean AUROC of its `selectedBy` kind on the OTHER
// datasets (every noise rate and seed), so no reported figure comes from a value picked on its own
// dataset. A new tunable (a score kind's η, damping, k, a threshold, a combination weight) is one
// row here, set through a flag of `winnow score`; a row whose flag this build's `winnow score` does
// not take is reported as unavailable and left at Winnow's default.

export interface TunableSetting {
  /** How the report names it. */
  readonly name: string;
  /** The `winnow score` option that sets it, e.g. `--lookahead-step`. */
  readonly flag: string;
  /** Values tried; Winnow's default among them. */
  readonly candidates: readonly number[];
  /** Winnow's default (what the other settings' sweeps run at). */
  readonly defaultValue: number;
  /** The score kind whose held-out AUROC picks the value (a manifest `scores` key, or `score`). */
  readonly selectedBy: string;
}

export const TUNABLE_SETTINGS: readonly TunableSetting[] = [
  {
    name: 'loss-estimate step η',
    flag: '--lookahead-step',
    candidates: [0.5, 1, 2],
    defaultValue: 1,
    selectedBy: 'contribution_lookahead',
  },
  {
    name: "quality's realism weight",
    flag: '--realism-weight',
    candidates: [0, 1, 2],
    defaultValue: 1,
    selectedBy: 'score',
  },
  {
    name: "quality's label-vote weight",
    flag: '--vote-weight',
    candidates: [0, 1, 2],
    defaultValue: 1,
    selectedBy: 'score',
  },
];
