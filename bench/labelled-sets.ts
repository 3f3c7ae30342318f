// The labelled sets with known wrong labels that bench/score-eval.ts and bench/rule-eval.ts measure
// on, and Winnow's CLI as those benchmarks drive it: tools/datasets/build_datasets.py writes each set
// (real training and validation images per class, and a pool of "synthetic" images of which a
// share carry a wrong label, listed in truth.jsonl); a project is made from it as a user would.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'winnow.js');
const BUILDER = join(ROOT, 'tools', 'datasets', 'build_datasets.py');
const PYTHON = '/usr/bin/python3';

/** Builder arguments per dataset: the digits have at most 183 images per class. */
export const DATASETS: Readonly<Record<string, readonly string[]>> = {
  fashion: [],
  digits: ['--val', '50'],
  fonts: [],
};

/** The same with a real test split: 100 images per class; the digits give 20 of their validation images' place to it. */
const WITH_TEST: Readonly<Record<string, readonly string[]>> = {
  fashion: ['--test', '100'],
  digits: ['--val', '30', '--test', '20'],
  fonts: ['--test', '100'],
};

export function checkDatasets(names: readonly string[]): void {
  for (const d of names)
    if (!(d in DATASETS)) throw new Error(`Unknown dataset ${d}: use ${Object.keys(DATASETS).join(', ')}.`);
}

export type WinnowCli = (argv: readonly string[], project?: string) => { stdout: string; stderr: string };

/** Runs `winnow` in a child process, its own state (current project) under `work`; throws on failure. */
export function winnowCli(work: string): WinnowCli {
  const env = { ...process.env, WINNOW_HOME: join(work, 'home') };
  return (argv, project) => {
    const r = spawnSync(process.execPath, [BIN, ...(project ? ['--project', project] : []), ...argv], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0)
      throw new Error(`winnow ${argv.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`.trim());
    return { stdout: r.stdout, stderr: r.stderr };
  };
}

/** Builds a dataset folder with tools/datasets/build_datasets.py (with a real test split if asked); returns its classes. */
export function buildSet(dataset: string, dir: string, seed: number, noise: number, withTest = false): string[] {
  const built = spawnSync(
    PYTHON,
    [
      BUILDER,
      '--dataset',
      dataset,
      '--out',
      dir,
      '--seed',
      String(seed),
      '--noise',
      String(noise),
      ...(withTest ? WITH_TEST : DATASETS)[dataset]!,
    ],
    { encoding: 'utf8' },
  );
  if (built.status !== 0) throw new Error(`Building ${dir} failed:\n${built.stderr}`);
  return (JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')) as { classes: string[] }).classes;
}

/** One pool image of a built set: its file (relative to the set), given label, true label. */
export interface TruthRow {
  readonly file: string;
  readonly label: string;
  readonly true_label: string;
  readonly wrong: boolean;
}

export function readTruth(dir: string): TruthRow[] {
  return readJsonLines<TruthRow>(join(dir, 'truth.jsonl'));
}

/** A new project at `project` with the set's real training, validation and (where built) test images. */
export function projectWithReal(winnow: WinnowCli, project: string, dir: string): string {
  winnow(['init', project]);
  for (const split of ['train', 'val', 'test'])
    if (existsSync(join(dir, 'real', split)))
      winnow(['import', 'real', join(dir, 'real', split), '--split', split], project);
  return project;
}

/** One line of an export's manifest.jsonl, as the benchmarks read it. */
export interface ManifestRow {
  readonly file_name: string | null;
  readonly image_hash: string;
  readonly label: string;
  readonly source_path: string | null;
  readonly status: string;
  readonly score?: number;
  readonly scores: Record<string, number>;
}

/** Every instance of the project, exported as JSON lines to `out` and read back. */
export function exportManifest(winnow: WinnowCli, project: string, out: string, formats = ['jsonl']): ManifestRow[] {
  winnow(['export', out, '--status', 'all', '--format', ...formats], project);
  return readJsonLines<ManifestRow>(join(out, 'manifest.jsonl'));
}

function readJsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
}
