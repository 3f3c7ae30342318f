import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { loadClip } from '../../src/main/models/modelLoader.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { defaultLoopParams, startLoop } from '../../src/main/pipeline/loop.ts';
import { serve } from '../../src/main/server/server.ts';
import type { ModelChoice } from '../../src/main/service/modelChoice.ts';
import { createEngine, type Engine } from '../../src/main/service/winnowService.ts';
import type { Project } from '../../src/main/store/project.ts';
import { launchChromium } from './chromium.ts';
import { tempDir } from './fixtures.ts';
import { writeTinyResources } from './tinyModels.ts';

/**
 * The demo project after one round of the loop with the tiny real ONNX models (`perRound` instances
 * over its classes), served by `winnow serve` on a free port: what the Chromium tests open. Its jobs
 * load the tiny generator and backbone in place of the embedded ones, and a chosen CLIP model (a
 * registered one) as it is.
 */
export async function startServedDemo(
  perRound: number,
): Promise<{ project: Project; engine: Engine; server: Server; url: string }> {
  // This file's own user state (recent projects, the model registry), whatever other files do meanwhile.
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  const project = await createDemoProject(join(tempDir(), 'demo'));
  const resources = writeTinyResources(tempDir());
  const tinyModels = async (choice?: ModelChoice) => ({
    generator: await EmbeddedGenerator.load(join(resources, 'models/fmnist-ddpm')),
    encoder: await EmbeddedEncoder.load(join(resources, 'models/fmnist-backbone')),
    ...(choice?.clip === undefined ? {} : { clip: await loadClip(choice.clip) }),
  });
  const { generator, encoder } = await tinyModels();
  await startLoop(
    project,
    { generator, encoder },
    {
      ...defaultLoopParams,
      rounds: 1,
      perRound,
      steps: 2,
      epsilon: 2,
      acquisition: 'random',
      folds: 2,
      lambdaGrid: [1e-2],
    },
  );
  await Promise.all([generator.dispose(), encoder.dispose()]);
  const engine = createEngine(project, { loadModels: tinyModels });
  const { server, url } = await serve({ engine, port: 0, host: '127.0.0.1' });
  return { project, engine, server, url };
}

/** Where the Chromium tests write their screenshots. */
export const E2E_OUTPUT = resolve(import.meta.dirname, '../output');

/** A served demo and the Chromium that opens it, once the file's beforeAll has run. */
export interface ServedDemoInChromium {
  readonly project: Project;
  /** The engine the server serves (its API, to check what the page did). */
  readonly engine: Engine;
  readonly server: Server;
  readonly url: string;
  readonly browser: Browser;
}

/**
 * For a Chromium test file: the served demo (startServedDemo) and a Chromium, started in the file's
 * beforeAll and closed (browser, server, project) in its afterAll. The fields are set once
 * beforeAll has run, so read them inside tests, not at the file's top level.
 */
export function useServedDemoInChromium(perRound: number): ServedDemoInChromium {
  const demo = {} as { -readonly [K in keyof ServedDemoInChromium]: ServedDemoInChromium[K] };
  beforeAll(async () => {
    Object.assign(demo, await startServedDemo(perRound));
    demo.browser = await launchChromium();
    mkdirSync(E2E_OUTPUT, { recursive: true });
    // The loop round and Chromium's start take longer than the default hook time on a busy machine.
  }, 180_000);
  afterAll(async () => {
    await demo.browser?.close();
    await new Promise((done) => (demo.server ? demo.server.close(done) : done(undefined)));
    demo.project?.close();
  });
  return demo;
}
