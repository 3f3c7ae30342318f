import type { ProjectStatus } from '../../../../shared/api.ts';

/** Where the next step is done: a screen, or the import form on the Project screen (set to real or synthetic). */
export type StepPlace = 'classes' | 'run' | 'import-real' | 'import-synthetic';

/** What a project still lacks before its first curated images, in the order a curator works. */
export interface NextStep {
  readonly text: string;
  readonly actions: readonly { readonly label: string; readonly place: StepPlace }[];
}

/**
 * The first-run path: classes, then real images of each (the loop learns from them), then a run
 * that generates, scores and curates. Null once a project has synthetic images or runs.
 */
export function nextStep(status: ProjectStatus): NextStep | null {
  const { classes } = status;
  if (classes.length === 0)
    return {
      text: 'This project is empty. Start by naming its classes, or import a folder of real images: its sub-folders become the classes.',
      actions: [
        { label: 'Create classes', place: 'classes' },
        { label: 'Import real images', place: 'import-real' },
      ],
    };
  const withoutImages = classes.filter((c) => c.real.train === 0).map((c) => c.name);
  if (withoutImages.length > 0)
    return {
      text: `Next: import real training images for ${withoutImages.join(', ')} (one sub-folder per class, named as the class). Runs learn from them.`,
      actions: [{ label: 'Import real images', place: 'import-real' }],
    };
  const synthetic = classes.reduce(
    (sum, c) => sum + c.synthetic.pending + c.synthetic.accepted + c.synthetic.rejected,
    0,
  );
  if (synthetic === 0 && status.runs === 0)
    return {
      text: 'Next: generate synthetic images. A run generates, scores and curates them round by round; or import synthetic images made elsewhere.',
      actions: [
        { label: 'Start a run', place: 'run' },
        { label: 'Import synthetic images', place: 'import-synthetic' },
      ],
    };
  return null;
}
