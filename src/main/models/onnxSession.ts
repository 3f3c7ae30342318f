import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { WinnowError } from '../errors.ts';

export type ExecutionProvider = 'cuda' | 'dml' | 'coreml' | 'cpu';

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProvider;
  /** Why a GPU provider was not used, when it was not. */
  readonly fallbackReason?: string;
}

/** The platform's GPU provider, if this onnxruntime-node install carries it. */
function gpuProvider(): { provider: ExecutionProvider | undefined; missing?: string } {
  if (process.platform === 'win32') return { provider: 'dml' };
  if (process.platform === 'darwin') return { provider: 'coreml' };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { provider: undefined, missing: 'no GPU provider for this platform' };
  // The CUDA provider is a separate download at install time; without its library ORT would only log errors.
  const binding = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const dir = join(binding, 'bin', 'napi-v6', 'linux', 'x64');
  const present = existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('libonnxruntime_providers_cuda'));
  return present
    ? { provider: 'cuda' }
    : {
        provider: undefined,
        missing:
          'onnxruntime-node was installed without its CUDA provider (ONNXRUNTIME_NODE_INSTALL=skip or no network)',
      };
}

/** `WINNOW_EXECUTION_PROVIDER=cpu` forces the CPU; otherwise the GPU is used where there is one. */
export function preferredProvider(env: NodeJS.ProcessEnv = process.env): {
  provider: ExecutionProvider;
  reason?: string;
} {
  if (env.WINNOW_EXECUTION_PROVIDER === 'cpu') return { provider: 'cpu', reason: 'WINNOW_EXECUTION_PROVIDER=cpu' };
  const gpu = gpuProvider();
  return gpu.provider ? { provider: gpu.provider } : { provider: 'cpu', reason: gpu.missing ?? 'no GPU provider' };
}

/**
 * Opens an ONNX model (a file, or a model's bytes built in memory) on the preferred execution
 * provider, falling back to the CPU when the GPU provider fails to start. A missing or unreadable
 * file is an error naming the file and the fix.
 */
export async function openSession(model: string | Uint8Array, what: string, fix: string): Promise<OpenedSession> {
  const where = typeof model === 'string' ? `model file ${model}` : 'model';
  if (typeof model === 'string' && !existsSync(model)) throw new WinnowError(`The ${what} ${where} is missing.`, fix);
  const preferred = preferredProvider();
  const options = (provider: ExecutionProvider): ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const create = (provider: ExecutionProvider) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options(provider))
      : ort.InferenceSession.create(model, options(provider));
  try {
    if (preferred.provider !== 'cpu') {
      try {
        return {
          session: await create(preferred.provider),
          provider: preferred.provider,
        };
      } catch (error) {
        const reason = `${preferred.provider} failed to start: ${(error as Error).message.split('\n')[0]}`;
        return {
          session: await create('cpu'),
          provider: 'cpu',
          fallbackReason: reason,
        };
      }
    }
    const opened: OpenedSession = { session: await create('cpu'), provider: 'cpu' };
    return preferred.reason === undefined ? opened : { ...opened, fallbackReason: preferred.reason };
  } catch (error) {
    throw new WinnowError(`The ${what} ${where} cannot be loaded: ${(error as Error).message.split('\n')[0]}`, fix);
  }
}

/** Checks a session has the documented input and output names, so a wrong file fails early and clearly. */
export function expectSignature(
  session: ort.InferenceSession,
  path: string,
  inputs: readonly string[],
  outputs: readonly string[],
  fix: string,
): void {
  const missing = [
    ...inputs.filter((n) => !session.inputNames.includes(n)).map((n) => `input "${n}"`),
    ...outputs.filter((n) => !session.outputNames.includes(n)).map((n) => `output "${n}"`),
  ];
  if (missing.length > 0) {
    throw new WinnowError(
      `${path} lacks ${missing.join(', ')} (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')}).`,
      fix,
    );
  }
}

/** What a model declares about one of its inputs or outputs, looked up by name. */
export function declaredMetadata(
  session: ort.InferenceSession,
  name: string,
): ort.InferenceSession.ValueMetadata | undefined {
  return [...session.inputMetadata, ...session.outputMetadata].find((m) => m.name === name);
}

/** The declared shape of a tensor input or output (symbolic dimensions as names), if the model declares one. */
export function declaredShape(session: ort.InferenceSession, name: string): readonly (number | string)[] | undefined {
  const meta = declaredMetadata(session, name);
  return meta?.isTensor ? meta.shape : undefined;
}

/** The declared element type of a tensor input or output ("float32", "int64", …). */
export function declaredType(session: ort.InferenceSession, name: string): string | undefined {
  const meta = declaredMetadata(session, name);
  return meta?.isTensor ? meta.type : undefined;
}
