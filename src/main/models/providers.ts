import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WinnowError } from '../errors.ts';
import { encodeGraph, FLOAT, node, tensorValue } from '../learn/onnxGraph.ts';
import { writeFileAtomic } from '../store/atomicFile.ts';
import { winnowHome } from '../workspace.ts';

/**
 * Which onnxruntime execution provider Winnow's models run on, and why. In order of preference:
 * CUDA when onnxruntime-node's CUDA provider libraries are installed; else WebGPU (Dawn: Vulkan on
 * Linux, D3D12 on Windows, Metal on macOS; it ships inside npm's onnxruntime-node) when it finds an
 * adapter; else DirectML (Windows) or CoreML (macOS); else the CPU. `WINNOW_EXECUTION_PROVIDER`
 * forces one; a forced provider that cannot start gives the CPU, with the reason.
 */

export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** The environment variable that forces a provider. */
export const PROVIDER_VARIABLE = 'WINNOW_EXECUTION_PROVIDER';

/** One provider as the probe found it: usable, or why not and what would make it usable. */
export type ProviderStatus =
  | { readonly provider: ExecutionProvider; readonly available: true; readonly detail: string }
  | {
      readonly provider: ExecutionProvider;
      readonly available: false;
      readonly detail: string;
      /** What to install or set to get it, when something would. */
      readonly fix?: string;
    };

/** What the machine offers (injected in tests; `machineProbe()` is the real one). */
export interface ProviderProbe {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  cuda(): ProviderStatus;
  webgpu(): Promise<ProviderStatus>;
}

export interface ProviderChoice {
  readonly provider: ExecutionProvider;
  /** One sentence: why this provider (the adapter, or why each better one is not used). */
  readonly reason: string;
  /** Set by WINNOW_EXECUTION_PROVIDER. */
  readonly forced: boolean;
  /** Every provider that applies on this platform, in order of preference, as probed. */
  readonly statuses: readonly ProviderStatus[];
}

/** The platform's own GPU provider beside WebGPU, if it has one. */
function platformProvider(platform: NodeJS.Platform): ProviderStatus | undefined {
  if (platform === 'win32') return { provider: 'dml', available: true, detail: 'DirectML (Direct3D 12)' };
  if (platform === 'darwin') return { provider: 'coreml', available: true, detail: 'CoreML' };
  return undefined;
}

/**
 * The providers that apply on this platform, probed in order of preference. WebGPU's adapter search
 * is skipped when CUDA is there, unless WebGPU is the one forced; a forced CUDA probes nothing else.
 */
async function probeAll(probe: ProviderProbe, forced?: ExecutionProvider): Promise<ProviderStatus[]> {
  const cuda = probe.cuda();
  if (forced === 'cuda') return [cuda];
  const webgpu: ProviderStatus =
    cuda.available && forced !== 'webgpu'
      ? { provider: 'webgpu', available: false, detail: 'not probed: CUDA is used' }
      : await probe.webgpu();
  const own = platformProvider(probe.platform);
  return [cuda, webgpu, ...(own ? [own] : []), { provider: 'cpu', available: true, detail: 'the CPU' }];
}

/** Chooses the provider: the forced one if it can start, else the first available in order of preference. */
export async function chooseProvider(
  probe: ProviderProbe,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProviderChoice> {
  const forced = env[PROVIDER_VARIABLE]?.trim().toLowerCase();
  if (forced !== undefined && forced !== '') {
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(forced))
      throw new WinnowError(
        `${PROVIDER_VARIABLE}=${env[PROVIDER_VARIABLE]} is not an execution provider.`,
        `Set it to one of ${EXECUTION_PROVIDERS.join(', ')}, or unset it to let Winnow choose.`,
      );
    const provider = forced as ExecutionProvider;
    if (provider === 'cpu') return { provider, reason: `${PROVIDER_VARIABLE}=cpu`, forced: true, statuses: [] };
    const statuses = await probeAll(probe, provider);
    const status = statuses.find((s) => s.provider === provider) ?? {
      provider,
      available: false as const,
      detail: `${provider} does not exist on ${probe.platform}`,
    };
    return status.available
      ? { provider, reason: `${PROVIDER_VARIABLE}=${provider}: ${status.detail}`, forced: true, statuses }
      : {
          provider: 'cpu',
          reason: `${PROVIDER_VARIABLE}=${provider}, but ${provider} cannot start (${status.detail}); using the CPU`,
          forced: true,
          statuses,
        };
  }
  const statuses = await probeAll(probe);
  const chosen = statuses.find((s) => s.available)!;
  const skipped = statuses.filter((s) => statuses.indexOf(s) < statuses.indexOf(chosen));
  const why = skipped.map((s) => `${s.provider}: ${s.detail}`).join('; ');
  return {
    provider: chosen.provider,
    reason: chosen.provider === 'cpu' ? `no GPU provider can start (${why})` : chosen.detail,
    forced: false,
    statuses,
  };
}

/** onnxruntime-node's folder of native libraries on this platform. */
function bindingDir(platform: NodeJS.Platform, arch: string): string {
  const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return join(root, 'bin', 'napi-v6', platform, arch);
}

const CUDA_FIX =
  'Reinstall onnxruntime-node with network access (it downloads the CUDA provider; ONNXRUNTIME_NODE_INSTALL=skip skips it), with CUDA 12 and cuDNN 9 installed.';

/** The CUDA provider's libraries beside the binding (Linux x64 only: npm's builds carry it nowhere else). */
function cudaStatus(platform: NodeJS.Platform, arch: string): ProviderStatus {
  if (platform !== 'linux' || arch !== 'x64')
    return {
      provider: 'cuda',
      available: false,
      detail: `npm's onnxruntime-node has no CUDA provider on ${platform}-${arch}`,
    };
  const dir = bindingDir(platform, arch);
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const has = (prefix: string) => files.some((f) => f.startsWith(prefix));
  return has('libonnxruntime_providers_cuda') && has('libonnxruntime_providers_shared')
    ? { provider: 'cuda', available: true, detail: 'the CUDA provider libraries are installed' }
    : {
        provider: 'cuda',
        available: false,
        detail: 'onnxruntime-node was installed without its CUDA provider libraries',
        fix: CUDA_FIX,
      };
}

/** Folders the Vulkan loader reads driver manifests (ICDs) from, and the manifests an environment names. */
function vulkanDrivers(env: NodeJS.ProcessEnv): string[] {
  const named = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter((f) => f !== '');
  if (named.length > 0) return named.filter((f) => existsSync(f));
  const dirs = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []));
}

/** The Vulkan loader library, looked for where Debian-like, Fedora-like and Arch-like systems keep it. */
function vulkanLoader(env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
  ];
  return dirs.map((d) => join(d, 'libvulkan.so.1')).find((f) => existsSync(f));
}

/** The GPUs the NVIDIA driver lists (its model names), for the adapter's description. */
function nvidiaModels(): string[] {
  const dir = '/proc/driver/nvidia/gpus';
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((bus) => {
    const info = join(dir, bus, 'information');
    const model = existsSync(info)
      ? readFileSync(info, 'utf8')
          .match(/^Model:\s*(.+)$/m)?.[1]
          ?.trim()
      : undefined;
    return model ? [model] : [];
  });
}

const VULKAN_FIX =
  "Install the Vulkan loader and your GPU driver's Vulkan driver: on Debian/Ubuntu `apt install libvulkan1` and, for NVIDIA, the driver's Vulkan support (the nvidia-driver package, or the container toolkit's graphics capability); for AMD/Intel `apt install mesa-vulkan-drivers`.";

/** A one-node graph run on WebGPU in a child process: Dawn's adapter search, contained (it may print or abort). */
function webgpuProbeChild(timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
  const model = encodeGraph({
    name: 'webgpu-probe',
    input: [tensorValue('a', FLOAT, [4])],
    output: [tensorValue('b', FLOAT, [4])],
    node: [node('Add', ['a', 'a'], ['b'])],
  });
  const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  const script = `
    const ort = (await import(${JSON.stringify(ortUrl)})).default;
    const bytes = Buffer.from(process.argv[1], 'base64');
    try {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 4 });
      const out = await s.run({ a: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) });
      const ok = Array.from(out.b.data).join(',') === '2,4,6,8';
      console.log(JSON.stringify(ok ? { ok } : { ok, error: 'WebGPU gave a wrong result for 1 + 1' }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, error: String(e.message ?? e).split('\\n').map((l) => l.trim()).filter(Boolean).pop() }));
    }`;
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, Buffer.from(model).toString('base64')],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: timeoutMs,
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => done({ ok: false, error: e.message }));
    child.on('close', (code, signal) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        done(JSON.parse(line) as { ok: true } | { ok: false; error: string });
      } catch {
        done({ ok: false, error: signal ? `the probe was killed (${signal})` : `the probe exited with code ${code}` });
      }
    });
  });
}

/** ORT's message without its source location: "Failed to get a WebGPU adapter: No supported adapters". */
function adapterError(message: string): string {
  return message.replace(/^.*?\bwas false\.\s*/, '');
}

/** What the adapter search depends on: a cached result is reused only while all of it is unchanged. */
function probeKey(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, drivers: readonly string[]): string {
  const nvidia = '/proc/driver/nvidia/version';
  return JSON.stringify({
    ort: createRequire(import.meta.url)('onnxruntime-node/package.json').version as string,
    node: process.version,
    platform,
    drivers: drivers.map((d) => [d, existsSync(d) ? statSync(d).mtimeMs : 0]),
    loader: vulkanLoader(env) ?? null,
    nvidia: existsSync(nvidia) ? readFileSync(nvidia, 'utf8').split('\n')[0] : null,
  });
}

/** The adapter search's result, cached in WINNOW_HOME: the search starts a process and takes a second or more. */
async function cachedAdapterSearch(
  key: string,
  env: NodeJS.ProcessEnv,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const file = join(winnowHome(env), 'webgpu-probe.json');
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as {
      key: string;
      result: { ok: true } | { ok: false; error: string };
    };
    if (cached.key === key) return cached.result;
  } catch {
    // No cache, or an unreadable one: probe again.
  }
  const result = await webgpuProbeChild(20_000);
  await writeFileAtomic(file, JSON.stringify({ key, result })).catch(() => undefined);
  return result;
}

/** WebGPU through Dawn: on Linux the Vulkan loader and a driver manifest first, then an adapter search. */
async function webgpuStatus(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): Promise<ProviderStatus> {
  let backend = platform === 'win32' ? 'Direct3D 12' : platform === 'darwin' ? 'Metal' : 'Vulkan';
  let drivers: string[] = [];
  if (platform === 'linux') {
    if (vulkanLoader(env) === undefined)
      return { provider: 'webgpu', available: false, detail: 'no Vulkan loader (libvulkan.so.1)', fix: VULKAN_FIX };
    drivers = vulkanDrivers(env);
    if (drivers.length === 0)
      return { provider: 'webgpu', available: false, detail: 'no Vulkan driver manifest (ICD)', fix: VULKAN_FIX };
    backend = `Vulkan; drivers ${drivers.map((d) => basename(d).replace(/(_icd)?(\.[^.]+)?\.json$/, '')).join(', ')}`;
  }
  const result = await cachedAdapterSearch(probeKey(platform, env, drivers), env);
  if (!result.ok)
    return {
      provider: 'webgpu',
      available: false,
      detail: `WebGPU found no adapter (${backend}): ${adapterError(result.error)}`,
      ...(platform === 'linux' ? { fix: VULKAN_FIX } : {}),
    };
  const models = platform === 'linux' ? nvidiaModels() : [];
  return {
    provider: 'webgpu',
    available: true,
    detail: `WebGPU adapter through ${backend}${models.length > 0 ? `: ${models.join(', ')}` : ''}`,
  };
}

/** The real probe of this machine; WebGPU's is run once per process. */
export function machineProbe(env: NodeJS.ProcessEnv = process.env): ProviderProbe {
  let webgpu: Promise<ProviderStatus> | undefined;
  return {
    platform: process.platform,
    arch: process.arch,
    cuda: () => cudaStatus(process.platform, process.arch),
    webgpu: () => (webgpu ??= webgpuStatus(process.platform, env)),
  };
}

let processChoice: Promise<ProviderChoice> | undefined;

/** This process's choice, probed once (WINNOW_EXECUTION_PROVIDER is read at the first call). */
export function processProvider(): Promise<ProviderChoice> {
  processChoice ??= chooseProvider(machineProbe());
  // A bad WINNOW_EXECUTION_PROVIDER is reported at every call, not cached as a rejection forever.
  processChoice.catch(() => (processChoice = undefined));
  return processChoice;
}
