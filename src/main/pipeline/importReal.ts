import type { WinnowError } from '../errors.ts';
import { addClass, checkClassName, findClass } from '../store/classes.ts';
import type { Project } from '../store/project.ts';
import { insertRealSample, type Split } from '../store/realSamples.ts';
import { importChunked } from './chunkedImport.ts';
import { walkImageFolder } from './imageFolder.ts';
import type { ImportOptions, ImportReport } from './report.ts';

/**
 * Imports labelled real images from an ImageFolder into one split. Real data defines the
 * project's classes: a folder naming a class the project lacks creates that class. It reads in
 * chunks and commits at once (chunkedImport.ts).
 */
export async function importReal(
  project: Project,
  dir: string,
  split: Split,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const { db } = project;
  const classesCreated: string[] = [];
  const result = await importChunked<{ label: string }, { imported: number }>(
    project,
    () => walkImageFolder(dir),
    {
      rowOf(file) {
        try {
          checkClassName(file.label);
          return { row: { label: file.label } };
        } catch (error) {
          return {
            path: file.path,
            reason: `is in a folder whose name is not a valid class name: ${(error as WinnowError).message}`,
          };
        }
      },
      commit: () => ({
        write({ image, path, row: { label } }) {
          let cls = findClass(db, label);
          if (cls === undefined) {
            cls = addClass(db, { name: label });
            classesCreated.push(cls.name);
          }
          insertRealSample(db, { imageHash: image.hash, classId: cls.id, split, sourcePath: path });
        },
        finish: (imported) => ({ imported }),
      }),
    },
    options,
  );
  return { imported: result.imported, classesCreated, skipped: result.skipped, chunks: result.chunks };
}
