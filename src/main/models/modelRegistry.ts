import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { withFileLock, writeFileAtomic } from '../store/atomicFile.ts';
import { winnowHome } from '../workspace.ts';
import { CLIP_FILES, CLIP_SIGNATURES } from './clip.ts';
import { readJsonConfig } from './jsonConfig.ts';
import { listModelFiles, modelId } from './modelId.ts';
import { declaredType } from './onnxSession.ts';
import { isFloatType } from './tensorPrecision.ts';
import { SD_FILES, SD_SIGNATURES } from './sd/stableDiffusion.ts';

export type ModelKind = 'stable-diffusion' | 'clip';

const registeredSchema = z.object({
  name: z.string().regex(/^[\w.-]+$/),
  kind: z.enum(['stable-diffusion', 'clip']),
  path: z.string(),
  id: z.string(),
  sizeBytes: z.number().nonnegative(),
  precision: z.enum(['fp32', 'fp16', 'mixed']),
  addedAt: z.string(),
});
export type RegisteredModel = z.infer<typeof registeredSchema>;

const registrySchema = z.object({ models: z.array(registeredSchema) });

interface Inspection {
  readonly kind: ModelKind;
  readonly precision: RegisteredModel['precision'];
  readonly sizeBytes: number;
}

interface OnnxExpectation {
  readonly file: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** The tensor whose float type is the model's precision. */
  readonly precisionOf: string;
}

const FIX_SD =
  'Export it with Hugging Face Optimum: optimum-cli export onnx --model <model id> <folder>. The folder needs model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/ and scheduler/.';
const FIX_CLIP =
  'Export CLIP with separate text and vision models (text_model.onnx and vision_model.onnx, as transformers.js and Optimum lay them out), with tokenizer.json or vocab.json + merges.txt, tokenizer_config.json and preprocessor_config.json.';

/** Which kind of model folder this is, judged by its layout. */
function kindOf(dir: string): ModelKind | undefined {
  if (existsSync(join(dir, SD_FILES.index))) return 'stable-diffusion';
  if (CLIP_FILES.text.some((f) => existsSync(join(dir, f))) || CLIP_FILES.vision.some((f) => existsSync(join(dir, f))))
    return 'clip';
  return undefined;
}

/**
 * Checks a model folder completely (files, JSON configs, each ONNX model's input and output names
 * and float precision) and lists every problem at once, so a user fixes a bad export in one go.
 */
export async function inspectModelFolder(folder: string): Promise<Inspection> {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new WinnowError(`${dir} is not a folder.`, 'Give the folder that holds the exported model.');
  const kind = kindOf(dir);
  if (!kind)
    throw new WinnowError(
      `${dir} is neither a Stable Diffusion folder (no model_index.json) nor a CLIP folder (no text_model.onnx or vision_model.onnx).`,
      `${FIX_SD} For CLIP: ${FIX_CLIP}`,
    );
  // Only regular files are ever opened: a named pipe would block this process (and a server) forever.
  const listing = await listModelFiles(dir);
  const problems: string[] = [...listing.problems];
  const regular = new Set(listing.files.map((f) => f.relativePath));
  /** Whether `file` is a regular file of the folder; if not, says why (unless the listing did). */
  const requireFile = (file: string): boolean => {
    const name = normalize(file);
    if (regular.has(name)) return true;
    if (!listing.problems.some((p) => p.startsWith(`${name} `)))
      problems.push(existsSync(join(dir, file)) ? `${file} is not a file` : `${file} is missing`);
    return false;
  };
  const requireJson = (file: string) => {
    if (!requireFile(file)) return;
    try {
      JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file} is not valid JSON (${(error as Error).message})`);
    }
  };
  const onnx: OnnxExpectation[] = [];
  let tokenizerDir: string;
  if (kind === 'stable-diffusion') {
    requireJson(SD_FILES.index);
    requireJson(SD_FILES.scheduler);
    requireJson('unet/config.json');
    requireJson('vae_decoder/config.json');
    onnx.push(
      { file: SD_FILES.textEncoder, ...SD_SIGNATURES.textEncoder, precisionOf: 'last_hidden_state' },
      { file: SD_FILES.unet, ...SD_SIGNATURES.unet, precisionOf: 'sample' },
      { file: SD_FILES.vaeDecoder, ...SD_SIGNATURES.vaeDecoder, precisionOf: 'latent_sample' },
    );
    tokenizerDir = SD_FILES.tokenizer;
  } else {
    const text = CLIP_FILES.text.find((f) => existsSync(join(dir, f)));
    const vision = CLIP_FILES.vision.find((f) => existsSync(join(dir, f)));
    if (!text) problems.push(`${CLIP_FILES.text.join(' or ')} is missing`);
    else onnx.push({ file: text, ...CLIP_SIGNATURES.text, precisionOf: 'text_embeds' });
    if (!vision) problems.push(`${CLIP_FILES.vision.join(' or ')} is missing`);
    else onnx.push({ file: vision, ...CLIP_SIGNATURES.vision, precisionOf: 'pixel_values' });
    requireJson(CLIP_FILES.preprocessor);
    tokenizerDir = '.';
  }
  requireJson(join(tokenizerDir, 'tokenizer_config.json'));
  if (!existsSync(join(dir, tokenizerDir, 'tokenizer.json'))) {
    for (const f of ['vocab.json', 'merges.txt'])
      if (!existsSync(join(dir, tokenizerDir, f)))
        problems.push(`${join(tokenizerDir, f)} is missing (and there is no ${join(tokenizerDir, 'tokenizer.json')})`);
  }
  const floatTypes = new Set<string>();
  for (const expected of onnx) {
    const path = join(dir, expected.file);
    if (!requireFile(expected.file)) continue;
    let session: ort.InferenceSession;
    try {
      // Only the signature is read here: no graph optimisation, CPU.
      session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    } catch (error) {
      problems.push(`${expected.file} cannot be loaded by onnxruntime (${(error as Error).message.split('\n')[0]})`);
      continue;
    }
    for (const name of expected.inputs)
      if (!session.inputNames.includes(name))
        problems.push(`${expected.file} lacks the input "${name}" (it has: ${session.inputNames.join(', ')})`);
    for (const name of expected.outputs)
      if (!session.outputNames.includes(name))
        problems.push(`${expected.file} lacks the output "${name}" (it has: ${session.outputNames.join(', ')})`);
    // Precision: the type of each model's main float tensor (a timestep may differ).
    const precision = declaredType(session, expected.precisionOf);
    if (isFloatType(precision)) floatTypes.add(precision);
    await session.release();
  }
  if (problems.length > 0)
    throw new WinnowError(
      `${dir} is not a usable ${kind === 'clip' ? 'CLIP' : 'Stable Diffusion'} model folder:\n  - ${problems.join('\n  - ')}`,
      kind === 'clip' ? FIX_CLIP : FIX_SD,
    );
  const precision = floatTypes.size === 2 ? 'mixed' : floatTypes.has('float16') ? 'fp16' : 'fp32';
  return { kind, precision, sizeBytes: listing.files.reduce((sum, f) => sum + f.size, 0) };
}

function registryFile(env: NodeJS.ProcessEnv): string {
  return join(winnowHome(env), 'models.json');
}

export function listModels(env: NodeJS.ProcessEnv = process.env): RegisteredModel[] {
  const file = registryFile(env);
  if (!existsSync(file)) return [];
  const fix = `Fix or delete ${file} and add the models again.`;
  return readJsonConfig(file, registrySchema, 'model registry', fix).models;
}

/**
 * Changes the registry as one atomic read-modify-write under its lock file: `change` gets the models
 * as they are now (re-read under the lock, so another process's add is never lost) and returns the
 * new list, or throws to leave the registry unchanged.
 */
async function updateModels(
  env: NodeJS.ProcessEnv,
  change: (models: RegisteredModel[]) => RegisteredModel[],
): Promise<void> {
  const file = registryFile(env);
  await withFileLock(file, async () => {
    await writeFileAtomic(file, `${JSON.stringify({ models: change(listModels(env)) }, null, 2)}\n`);
  });
}

function refuseTaken(models: readonly RegisteredModel[], name: string): void {
  if (models.some((m) => m.name === name))
    throw new WinnowError(
      `A model named "${name}" is already registered.`,
      `Pick another --name, or run winnow models remove ${name} first.`,
    );
}

/** Validates a folder and records it under `name` (default: the folder's name). */
export async function addModel(
  folder: string,
  name?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegisteredModel> {
  const dir = resolve(folder);
  const chosen = name ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  if (!/^[\w.-]+$/.test(chosen))
    throw new WinnowError(`"${chosen}" cannot name a model.`, 'Use letters, digits, ".", "-" and "_" (--name).');
  // Checked before the (slow) inspection to fail fast, and again under the lock.
  refuseTaken(listModels(env), chosen);
  const inspection = await inspectModelFolder(dir);
  const model: RegisteredModel = {
    name: chosen,
    path: dir,
    id: `${chosen}@${(await modelId(dir)).split('@')[1]}`,
    addedAt: new Date().toISOString(),
    ...inspection,
  };
  await updateModels(env, (models) => {
    refuseTaken(models, chosen);
    return [...models, model];
  });
  return model;
}

export async function removeModel(name: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  findModel(name, undefined, env);
  await updateModels(env, (models) => models.filter((m) => m.name !== name));
}

/** A registered model by name, optionally of a required kind; the error lists what there is. */
export function findModel(name: string, kind?: ModelKind, env: NodeJS.ProcessEnv = process.env): RegisteredModel {
  const models = listModels(env);
  const model = models.find((m) => m.name === name);
  const candidates = models.filter((m) => !kind || m.kind === kind).map((m) => m.name);
  if (!model)
    throw new WinnowError(
      `No model named "${name}" is registered.`,
      candidates.length > 0
        ? `Registered${kind ? ` ${kind}` : ''} models: ${candidates.join(', ')}. Add one with winnow models add <folder>.`
        : 'Add one with winnow models add <folder>.',
    );
  if (kind && model.kind !== kind)
    throw new WinnowError(
      `"${name}" is a ${model.kind} model, not ${kind}.`,
      candidates.length > 0
        ? `Use one of: ${candidates.join(', ')}.`
        : `Add a ${kind} model with winnow models add <folder>.`,
    );
  if (!existsSync(model.path))
    throw new WinnowError(
      `The folder of model "${name}", ${model.path}, is gone.`,
      `Restore it, or run winnow models remove ${name}.`,
    );
  return model;
}
