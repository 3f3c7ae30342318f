import type { ProjectStatus } from '../../../../shared/api.ts';
import { computed, onMounted, type ComputedRef } from 'vue';
import { syntheticCount, useProjectStore } from '../../stores/project.ts';

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
  if (syntheticCount(status) === 0 && status.runs === 0) return GENERATE;
  return null;
}

const GENERATE: NextStep = {
  text: 'Next: generate synthetic images. A run generates, scores and curates them round by round; or import synthetic images made elsewhere.',
  actions: [
    { label: 'Start a run', place: 'run' },
    { label: 'Import synthetic images', place: 'import-synthetic' },
  ],
};

/** The screens past setup that show first-run guidance, and what each lacks until the project has synthetic instances. */
const SCREEN_LACKS = {
  run: null,
  review: 'Nothing to review yet: this project has no synthetic instances.',
  audit: 'Nothing to audit yet: this project has no synthetic instances.',
  export: 'Nothing to export yet: this project has no synthetic instances.',
} as const;
export type GuidedScreen = keyof typeof SCREEN_LACKS;

/**
 * A screen's first-run guidance: the project's next step, said after what the screen lacks, without
 * a button to the screen itself. The Run screen shows it until the project has synthetic images or
 * runs; the others until it has synthetic instances (a run may have made none). Null when nothing lacks.
 */
export function screenStep(status: ProjectStatus, screen: GuidedScreen): NextStep | null {
  const lacks = SCREEN_LACKS[screen];
  const step = nextStep(status) ?? (lacks !== null && syntheticCount(status) === 0 ? GENERATE : null);
  if (!step) return null;
  return {
    text: lacks === null ? step.text : `${lacks} ${step.text}`,
    actions: step.actions.filter((a) => a.place !== screen),
  };
}

/** A screen's first-run guidance on the project's counts, fetched anew when the screen opens (a run or an import may have changed them). */
export function useScreenStep(screen: GuidedScreen): ComputedRef<NextStep | null> {
  const project = useProjectStore();
  onMounted(() => void project.refreshStatus());
  return computed(() => (project.status ? screenStep(project.status, screen) : null));
}
