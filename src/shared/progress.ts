/** A progress event of a long job, streamed to the CLI's progress bar and to every open view. */
export interface ProgressEvent {
  readonly runId: number;
  /** 0-based round, for the generative active-learning loop. */
  readonly round?: number;
  readonly rounds?: number;
  readonly stage: Stage;
  readonly done: number;
  readonly total: number;
  /** Seconds left in this stage at the rate so far; undefined until there is a rate. */
  readonly etaSeconds?: number;
}

export type Stage = 'prepare' | 'plan' | 'search' | 'generate' | 'embed' | 'score' | 'accept' | 'train' | 'evaluate';

/** Tracks one stage's rate and turns done/total into an event with an ETA. */
export function stageClock(runId: number, stage: Stage, round?: { round: number; rounds: number }) {
  const started = Date.now();
  return (done: number, total: number): ProgressEvent => {
    const elapsed = (Date.now() - started) / 1000;
    const etaSeconds = done > 0 && done < total ? (elapsed / done) * (total - done) : done >= total ? 0 : undefined;
    return { runId, stage, done, total, ...(round ?? {}), ...(etaSeconds === undefined ? {} : { etaSeconds }) };
  };
}
