import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli/main.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { addModel } from '../../src/main/models/modelRegistry.ts';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('winnow run loads its models in one place', () => {
  it('releases the generator it loaded when the encoder fails to load', async () => {
    const work = tempDir();
    vi.stubEnv('WINNOW_HOME', join(work, 'home'));
    vi.stubEnv('WINNOW_PROJECT', '');
    const clip = join(work, 'clip');
    cpSync(resolve(import.meta.dirname, '../fixtures/models/tiny-clip'), clip, { recursive: true });
    await addModel(clip, 'clip');
    rmSync(join(clip, 'vision_model.onnx')); // registered, folder in place, but it no longer loads
    initProject(join(work, 'p')).close();
    const loaded = vi.spyOn(EmbeddedGenerator, 'load');
    const disposed = vi.spyOn(EmbeddedGenerator.prototype, 'dispose');
    vi.spyOn(console, 'error').mockImplementation(() => {});

    const code = await main(['run', '--encoder', 'clip', '--rounds', '1', '--project', join(work, 'p')]);

    expect(code).toBe(1);
    expect(loaded).toHaveBeenCalledTimes(1);
    expect(disposed).toHaveBeenCalledTimes(1);
    expect(disposed.mock.instances[0]).toBe(await loaded.mock.results[0]!.value);
  });
});
