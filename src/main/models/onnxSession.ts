import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { WinnowError } from '../errors.ts';
import { type ExecutionProvider, type ProviderChoice, processProvider } from './providers.ts';

export type { ExecutionProvider } from './providers.ts';

type SessionFacts = Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;

function sessionOptions(provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  return { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}

const firstLine = (error: unknown) => String((error as Error).message ?? error).split('\n')[0];

/**
 * An onnxruntime session on the process's chosen provider (providers.ts). If a GPU provider fails at
 * its first run, the model is reopened on the CPU and the run repeated there, once, with the reason
 * kept: `provider` and `providerReason` always say where the model runs now. Every model of Winnow
 * runs through this one class, so the GPU and CPU paths share every line above the session.
 */
export class ModelSession implements SessionFacts {
  #session: ort.InferenceSession;
  #provider: ExecutionProvider;
  #reason: string;
  #proven: boolean;
  #fallback: Promise<void> | undefined;
  readonly #reopenOnCpu: () => Promise<ort.InferenceSession>;

  constructor(
    session: ort.InferenceSession,
    provider: ExecutionProvider,
    providerReason: string,
    reopenOnCpu: () => Promise<ort.InferenceSession>,
  ) {
    this.#reopenOnCpu = reopenOnCpu;
    this.#session = session;
    this.#provider = provider;
    this.#reason = providerReason;
    this.#proven = provider === 'cpu';
  }

  get provider(): ExecutionProvider {
    return this.#provider;
  }
  /** Why the model runs where it does: the adapter, or why not on the GPU (or the forced provider). */
  get providerReason(): string {
    return this.#reason;
  }
  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.#session.outputNames;
  }
  get inputMetadata(): ort.InferenceSession['inputMetadata'] {
    return this.#session.inputMetadata;
  }
  get outputMetadata(): ort.InferenceSession['outputMetadata'] {
    return this.#session.outputMetadata;
  }

  async run(feeds: ort.InferenceSession.FeedsType): Promise<ort.InferenceSession.ReturnType> {
    if (this.#proven) return this.#session.run(feeds);
    if (this.#fallback === undefined) {
      try {
        const out = await this.#session.run(feeds);
        this.#proven = true;
        return out;
      } catch (error) {
        const failed = this.#provider;
        this.#fallback ??= (async () => {
          const gpu = this.#session;
          this.#session = await this.#reopenOnCpu();
          this.#provider = 'cpu';
          this.#reason = `${failed} failed at its first run (${firstLine(error)}); using the CPU`;
          this.#proven = true;
          await gpu.release().catch(() => undefined);
        })();
      }
    }
    await this.#fallback;
    return this.#session.run(feeds);
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

/**
 * Opens an ONNX model (a file, or a model's bytes built in memory) on the process's chosen provider,
 * falling back to the CPU when that provider fails to start. A missing or unreadable file is an
 * error naming the file and the fix.
 */
export async function openSession(
  model: string | Uint8Array,
  what: string,
  fix: string,
  chosen: Promise<ProviderChoice> = processProvider(),
): Promise<ModelSession> {
  const where = typeof model === 'string' ? `model file ${model}` : 'model';
  if (typeof model === 'string' && !existsSync(model)) throw new WinnowError(`The ${what} ${where} is missing.`, fix);
  const choice = await chosen;
  const create = (provider: ExecutionProvider) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, sessionOptions(provider))
      : ort.InferenceSession.create(model, sessionOptions(provider));
  const onCpu = () => create('cpu');
  try {
    if (choice.provider !== 'cpu') {
      try {
        return new ModelSession(await create(choice.provider), choice.provider, choice.reason, onCpu);
      } catch (error) {
        const reason = `${choice.provider} failed to start (${firstLine(error)}); using the CPU`;
        return new ModelSession(await onCpu(), 'cpu', reason, onCpu);
      }
    }
    return new ModelSession(await onCpu(), 'cpu', choice.reason, onCpu);
  } catch (error) {
    throw new WinnowError(`The ${what} ${where} cannot be loaded: ${firstLine(error)}`, fix);
  }
}

/**
 * Where a model made of several sessions runs: their provider when they agree; else the CPU (the
 * slowest part decides), with the reason of a part that fell back to it.
 */
export function combinedProvider(sessions: readonly Pick<ModelSession, 'provider' | 'providerReason'>[]): {
  provider: ExecutionProvider;
  reason: string;
} {
  const first = sessions[0];
  if (first === undefined) return { provider: 'cpu', reason: 'no sessions' };
  if (sessions.every((s) => s.provider === first.provider))
    return { provider: first.provider, reason: first.providerReason };
  return { provider: 'cpu', reason: sessions.find((s) => s.provider === 'cpu')!.providerReason };
}

/** Checks a session has the documented input and output names, so a wrong file fails early and clearly. */
export function expectSignature(
  session: SessionFacts,
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
export function declaredMetadata(session: SessionFacts, name: string): ort.InferenceSession.ValueMetadata | undefined {
  return [...session.inputMetadata, ...session.outputMetadata].find((m) => m.name === name);
}

/** The declared shape of a tensor input or output (symbolic dimensions as names), if the model declares one. */
export function declaredShape(session: SessionFacts, name: string): readonly (number | string)[] | undefined {
  const meta = declaredMetadata(session, name);
  return meta?.isTensor ? meta.shape : undefined;
}

/** The declared element type of a tensor input or output ("float32", "int64", …). */
export function declaredType(session: SessionFacts, name: string): string | undefined {
  const meta = declaredMetadata(session, name);
  return meta?.isTensor ? meta.type : undefined;
}
