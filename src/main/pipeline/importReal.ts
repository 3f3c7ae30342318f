import type { WinnowError } from '../errors.ts';
import { addClass, checkClassName, findClass } from '../store/classes.ts';
import { writeTransaction } from '../store/database.ts';
import { recordImage } from '../store/images.ts';
import type { Project } from '../store/project.ts';
import { insertRealSample, type Split } from '../store/realSamples.ts';
import { type ImageFolderFile, scanImageFolder } from './imageFolder.ts';
import { dropDuplicates, ingestFiles } from './ingest.ts';
import type { ImportProgress, ImportReport, Skipped } from './report.ts';

/**
 * Imports labelled real images from an ImageFolder into one split. Real data defines the
 * project's classes: a folder naming a class the project lacks creates that class.
 */
export async function importReal(
  project: Project,
  dir: string,
  split: Split,
  onProgress?: ImportProgress,
): Promise<ImportReport> {
  const scan = await scanImageFolder(dir);
  const skipped: Skipped[] = [...scan.skipped];
  const files: ImageFolderFile[] = [];
  for (const file of scan.files) {
    try {
      checkClassName(file.label);
      files.push(file);
    } catch (error) {
      skipped.push({
        path: file.path,
        reason: `is in a folder whose name is not a valid class name: ${(error as WinnowError).message}`,
      });
    }
  }
  const ingested = await ingestFiles(files, project.images, onProgress);
  skipped.push(...ingested.skipped);

  const { db } = project;
  const classesCreated: string[] = [];
  const imported = writeTransaction(db, () => {
    const { fresh, skipped: duplicates } = dropDuplicates(db, ingested.ingested);
    skipped.push(...duplicates);
    for (const { item, image } of fresh) {
      let cls = findClass(db, item.label);
      if (cls === undefined) {
        cls = addClass(db, { name: item.label });
        classesCreated.push(cls.name);
      }
      recordImage(db, image);
      insertRealSample(db, { imageHash: image.hash, classId: cls.id, split, sourcePath: item.path });
    }
    return fresh.length;
  });
  return { imported, classesCreated, skipped };
}
