import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourcesDir } from '../models/embeddedModels.ts';
import { addClass, type ClassRow } from '../store/classes.ts';
import { writeTransaction } from '../store/database.ts';
import { recordImage } from '../store/images.ts';
import { initProject, isProject, type Project } from '../store/project.ts';
import { insertRealSample, type Split } from '../store/realSamples.ts';
import { setSetting } from '../store/settings.ts';
import { resolveProjectDir, setCurrentProject, winnowHome } from '../workspace.ts';
import { readIdxImages } from './idx.ts';
import { storeRawImage } from './storeImages.ts';

/** A folder-safe class name the embedded generator's vocabulary knows: "T-shirt/top" → "t-shirt". */
export function demoClassName(fashionMnistName: string): string {
  return (fashionMnistName.split('/')[0] as string).toLowerCase();
}

/** Test images per class the demo holds: the first of each class in the official test split's order. */
const DEMO_TEST_PER_CLASS = 100;

/**
 * Creates the demo project from the embedded Fashion-MNIST subset: 10 classes, 20 labelled real
 * training images and 100 validation images per class (from the official train split), 100 test
 * images per class (from the test split, which no embedded model was trained on), prompt templates
 * for the embedded generator.
 */
export async function createDemoProject(dir: string): Promise<Project> {
  const data = join(resourcesDir(), 'data', 'fashion-mnist');
  const names = JSON.parse(readFileSync(join(data, 'classes.json'), 'utf8')) as string[];
  const project = initProject(dir, 'Fashion-MNIST demo');
  try {
    const splits: [Split, string, number][] = [
      ['train', 'demo-train', Infinity],
      ['val', 'demo-val', Infinity],
      ['test', 'test', DEMO_TEST_PER_CLASS],
    ];
    const rows: { hash: string; label: number; split: Split; image: Awaited<ReturnType<typeof storeRawImage>> }[] = [];
    for (const [split, prefix, perClass] of splits) {
      const { images, labels } = readIdxImages(
        join(data, `${prefix}-images-idx3-ubyte.gz`),
        join(data, `${prefix}-labels-idx1-ubyte.gz`),
      );
      const [n, height, width] = images.dims as [number, number, number];
      const taken = new Array<number>(names.length).fill(0);
      for (let i = 0; i < n; i++) {
        const label = labels[i] as number;
        if (taken[label]! >= perClass) continue;
        taken[label]! += 1;
        const pixels = images.data.subarray(i * height * width, (i + 1) * height * width);
        const image = await storeRawImage(project.images, { width, height, channels: 1, pixels });
        rows.push({ hash: image.hash, label, split, image });
      }
    }
    writeTransaction(project.db, () => {
      const classes: ClassRow[] = names.map((name) =>
        addClass(project.db, { name: demoClassName(name), promptTemplates: ['a photo of a {label}'] }),
      );
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.hash)) continue; // an image the data set holds twice is imported once
        seen.add(r.hash);
        recordImage(project.db, r.image);
        const cls = classes[r.label] as ClassRow;
        insertRealSample(project.db, { imageHash: r.hash, classId: cls.id, split: r.split, sourcePath: null });
      }
      setSetting(project.db, 'demo', { source: 'resources/data/fashion-mnist', classes: names });
    });
    return project;
  } catch (error) {
    project.close();
    throw error;
  }
}

/**
 * The project the app opens: the current one, or on first start (no current project) the demo
 * project, created under Winnow's home folder and made current.
 */
export async function currentOrDemoProjectDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    return resolveProjectDir(undefined, env);
  } catch {
    const dir = join(winnowHome(env), 'demo');
    if (!isProject(dir)) (await createDemoProject(dir)).close();
    await setCurrentProject(dir, env);
    return dir;
  }
}
