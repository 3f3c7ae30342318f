import type { ModelInfo, Responses } from '../../shared/api.ts';
import { addModel, listModels, type RegisteredModel } from '../models/modelRegistry.ts';
import { processProvider } from '../models/providers.ts';
import { EmbeddedEncoder } from '../models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../models/embeddedGenerator.ts';
import { EMBEDDED_ENCODER, EMBEDDED_GENERATOR, embeddedModelDir } from '../models/embeddedModels.ts';

/**
 * The model registry as the API and the CLI show it. The registry is the user's, like the recent
 * projects: it lives in WINNOW_HOME, not in a project.
 */

/** A registry entry as the API carries it. */
function modelInfo(m: RegisteredModel): ModelInfo {
  return {
    name: m.name,
    kind: m.kind,
    path: m.path,
    id: m.id,
    sizeBytes: m.sizeBytes,
    precision: m.precision,
    addedAt: m.addedAt,
  };
}

/** The registered models and the execution provider they would run on, why, and every provider's state. */
export async function registeredModels(): Promise<Responses['modelList']> {
  const choice = await processProvider();
  return {
    models: listModels().map(modelInfo),
    provider: choice.provider,
    providerReason: choice.reason,
    providers: choice.statuses.map((s) => ({ ...s })),
  };
}

/** Checks a model folder and registers it. */
export async function registerModel(folder: string, name?: string): Promise<ModelInfo> {
  return modelInfo(await addModel(folder, name));
}

/** The embedded generator and backbone: their ids, where they run, and the classes the generator knows. */
export async function embeddedModels(): Promise<{
  generator: { id: string; provider: string };
  encoder: { id: string; provider: string };
  classes: readonly string[];
}> {
  const generator = await EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR));
  try {
    const encoder = await EmbeddedEncoder.load(embeddedModelDir(EMBEDDED_ENCODER));
    await encoder.dispose();
    return {
      generator: { id: generator.id, provider: generator.provider },
      encoder: { id: encoder.id, provider: encoder.provider },
      classes: generator.classes,
    };
  } finally {
    await generator.dispose();
  }
}
