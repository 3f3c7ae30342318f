import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { failureOf } from '../../src/main/service/backgroundTask.ts';
import { Imports } from '../../src/main/service/imports.ts';
import { initProject } from '../../src/main/store/project.ts';
import { summarize } from '../../src/main/store/summary.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

// What an import or a remedy trial that ended badly says: the stop's sentence when it was stopped,
// else its own error's.
describe('a background task that failed', () => {
  const stopped = new WinnowError('It was stopped.', 'Start it again.');

  it('says it was stopped when its signal was aborted, whatever the abort threw', () => {
    const controller = new AbortController();
    controller.abort();
    expect(failureOf(new DOMException('aborted', 'AbortError'), controller.signal, stopped)).toEqual({
      error: 'It was stopped.',
      fix: 'Start it again.',
    });
  });

  it("otherwise says its own error's sentence and fix, and logs an error that is a bug", () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const going = new AbortController().signal;
      expect(failureOf(new WinnowError('No images.', 'Add some.'), going, stopped)).toEqual({
        error: 'No images.',
        fix: 'Add some.',
      });
      expect(failureOf(new WinnowError('No images.'), undefined, stopped)).toEqual({ error: 'No images.' });
      expect(log).not.toHaveBeenCalled();
      const bug = new TypeError('x is undefined');
      expect(failureOf(bug, going, stopped)).toEqual({ error: 'x is undefined' });
      expect(log).toHaveBeenCalledWith(bug);
    } finally {
      log.mockRestore();
    }
  });

  it('an import stopped as it starts keeps nothing and says so', async () => {
    const work = tempDir();
    const project = initProject(join(work, 'p'));
    await makeImageFolder(join(work, 'real'), { shirt: 20, coat: 20 });
    const imports = new Imports(project, () => false);
    await imports.start({ kind: 'real', folder: join(work, 'real'), split: 'train' });
    await imports.stop();
    expect(imports.state).toMatchObject({
      state: 'failed',
      error: 'The import was stopped before it finished; nothing of it was kept.',
      fix: 'Import the folder again.',
    });
    expect(summarize(project.db).classes).toEqual([]);
    project.close();
  });
});
