import cliProgress from 'cli-progress';

/** Where a bar draws: stderr, or a fake terminal in a test. */
export type BarStream = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

export interface ProgressBar {
  /** A new stage (e.g. "round 2/3 generate"): the last stage's bar is finished and the next one starts under this label. */
  stage(label: string): void;
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr (so stdout stays clean for scripts). In a terminal each stage gets its
 * own bar, started at the stage's first update; elsewhere each stage is one line and there is no bar.
 */
export function progressBar(firstLabel: string, stream: BarStream = process.stderr): ProgressBar {
  if (stream.isTTY !== true)
    return { stage: (label) => void stream.write(`${label}\n`), update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: '{stage} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}', stream, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let label = firstLabel;
  let running = false;
  const stop = () => {
    if (running) bar.stop();
    running = false;
  };
  return {
    stage(next) {
      stop();
      label = next;
    },
    update(done, total) {
      if (!running) {
        bar.start(total, done, { stage: label });
        running = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop,
  };
}

/**
 * A bar for a command whose work comes in named stages (an import reads, then commits): each new
 * stage gets its own bar, labelled `<command>: <stage>`, with its ETA. Outside a terminal it writes
 * nothing: the command's own lines on stdout say what it did.
 */
export function stagedProgress(
  command: string,
  stream: BarStream = process.stderr,
): { onProgress(done: number, total: number, stage: string): void; stop(): void } {
  if (stream.isTTY !== true) return { onProgress: () => {}, stop: () => {} };
  const bar = progressBar(command, stream);
  let current: string | undefined;
  return {
    onProgress(done, total, stage) {
      if (stage !== current) bar.stage(`${command}: ${(current = stage)}`);
      bar.update(done, total);
    },
    stop: () => bar.stop(),
  };
}
