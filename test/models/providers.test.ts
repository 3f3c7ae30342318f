import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it, vi } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { encodeGraph, FLOAT, node, tensorValue } from '../../src/main/learn/onnxGraph.ts';
import { ModelSession, openSession } from '../../src/main/models/onnxSession.ts';
import {
  chooseProvider,
  machineProbe,
  type ProviderChoice,
  type ProviderProbe,
  type ProviderStatus,
} from '../../src/main/models/providers.ts';

/** A machine as the probe would find it. */
function probe(options: {
  platform?: NodeJS.Platform;
  cuda?: boolean;
  adapter?: string | undefined;
}): ProviderProbe & { webgpuCalls: () => number } {
  const webgpu = vi.fn(async (): Promise<ProviderStatus> =>
    options.adapter === undefined
      ? {
          provider: 'webgpu',
          available: false,
          detail: 'no Vulkan loader (libvulkan.so.1)',
          fix: 'apt install libvulkan1',
        }
      : { provider: 'webgpu', available: true, detail: `WebGPU adapter through Vulkan: ${options.adapter}` },
  );
  return {
    platform: options.platform ?? 'linux',
    arch: 'x64',
    cuda: () =>
      options.cuda
        ? { provider: 'cuda', available: true, detail: 'the CUDA provider libraries are installed' }
        : { provider: 'cuda', available: false, detail: 'installed without its CUDA provider', fix: 'reinstall' },
    webgpu,
    webgpuCalls: () => webgpu.mock.calls.length,
  };
}

const none = {};
const force = (provider: string) => ({ WINNOW_EXECUTION_PROVIDER: provider });

describe('the execution provider: CUDA, else WebGPU with an adapter, else DirectML/CoreML, else the CPU', () => {
  it('takes CUDA when its libraries are installed, without searching for a WebGPU adapter', async () => {
    const machine = probe({ cuda: true, adapter: 'NVIDIA H200' });
    const choice = await chooseProvider(machine, none);
    expect(choice.provider).toBe('cuda');
    expect(choice.reason).toMatch(/CUDA provider libraries are installed/);
    expect(machine.webgpuCalls()).toBe(0);
  });

  it('takes WebGPU when CUDA is missing and an adapter is found, naming the adapter', async () => {
    const choice = await chooseProvider(probe({ adapter: 'NVIDIA H200' }), none);
    expect(choice).toMatchObject({ provider: 'webgpu', forced: false });
    expect(choice.reason).toMatch(/NVIDIA H200/);
    expect(choice.statuses.map((s) => [s.provider, s.available])).toEqual([
      ['cuda', false],
      ['webgpu', true],
      ['cpu', true],
    ]);
  });

  it('falls to the CPU on Linux without either, saying why for each and what to install', async () => {
    const choice = await chooseProvider(probe({}), none);
    expect(choice.provider).toBe('cpu');
    expect(choice.reason).toBe(
      'no GPU provider can start (cuda: installed without its CUDA provider; webgpu: no Vulkan loader (libvulkan.so.1))',
    );
    expect(choice.statuses.find((s) => s.provider === 'webgpu')).toMatchObject({ fix: 'apt install libvulkan1' });
  });

  it("takes the platform's own provider without an adapter: DirectML on Windows, CoreML on macOS", async () => {
    expect((await chooseProvider(probe({ platform: 'win32' }), none)).provider).toBe('dml');
    expect((await chooseProvider(probe({ platform: 'darwin' }), none)).provider).toBe('coreml');
    // WebGPU still comes first where it finds an adapter.
    expect((await chooseProvider(probe({ platform: 'win32', adapter: 'Radeon' }), none)).provider).toBe('webgpu');
  });

  it('WINNOW_EXECUTION_PROVIDER=cpu forces the CPU and probes nothing', async () => {
    const machine = probe({ cuda: true, adapter: 'NVIDIA H200' });
    expect(await chooseProvider(machine, force('cpu'))).toMatchObject({ provider: 'cpu', forced: true });
    expect(machine.webgpuCalls()).toBe(0);
  });

  it('a forced provider that is there is used, even past a better one', async () => {
    const choice = await chooseProvider(probe({ cuda: true, adapter: 'NVIDIA H200' }), force('webgpu'));
    expect(choice).toMatchObject({ provider: 'webgpu', forced: true });
    expect(choice.reason).toMatch(/^WINNOW_EXECUTION_PROVIDER=webgpu: .*NVIDIA H200/);
  });

  it('a forced provider that cannot start gives the CPU with the reason, never an error', async () => {
    const webgpu = await chooseProvider(probe({}), force('WebGPU'));
    expect(webgpu.provider).toBe('cpu');
    expect(webgpu.reason).toBe(
      'WINNOW_EXECUTION_PROVIDER=webgpu, but webgpu cannot start (no Vulkan loader (libvulkan.so.1)); using the CPU',
    );
    const cuda = await chooseProvider(probe({ adapter: 'NVIDIA H200' }), force('cuda'));
    expect(cuda.provider).toBe('cpu');
    expect(cuda.reason).toMatch(/cuda cannot start \(installed without its CUDA provider\)/);
    const dml = await chooseProvider(probe({}), force('dml'));
    expect(dml).toMatchObject({ provider: 'cpu' });
    expect(dml.reason).toMatch(/dml does not exist on linux/);
  });

  it('a value that names no provider is an error naming the variable and the choices', async () => {
    const error = await chooseProvider(probe({}), force('gpu')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinnowError);
    expect((error as WinnowError).message).toBe('WINNOW_EXECUTION_PROVIDER=gpu is not an execution provider.');
    expect((error as WinnowError).fix).toMatch(/cuda, webgpu, dml, coreml, cpu/);
  });
});

describe("this machine's probe (no GPU here)", () => {
  it('finds no WebGPU adapter and says why, with what to install', async () => {
    const status = await machineProbe().webgpu();
    expect(status.available).toBe(false);
    expect(status.detail).toMatch(/no Vulkan loader|no Vulkan driver manifest|WebGPU found no adapter/);
    expect(status.available ? undefined : status.fix).toMatch(/libvulkan1/);
  });
});

/** A one-node model: b = a + a. */
const doubling = encodeGraph({
  name: 'double',
  input: [tensorValue('a', FLOAT, [2])],
  output: [tensorValue('b', FLOAT, [2])],
  node: [node('Add', ['a', 'a'], ['b'])],
});
const feeds = () => ({ a: new ort.Tensor('float32', Float32Array.of(1.5, -2), [2]) });
const chosen = (provider: ProviderChoice['provider'], reason: string): Promise<ProviderChoice> =>
  Promise.resolve({ provider, reason, forced: false, statuses: [] });

describe('a model session on the chosen provider', () => {
  it('falls back to the CPU when the provider fails at session creation, with the reason', async () => {
    // The probe claims an adapter; onnxruntime's WebGPU provider then finds none on this machine.
    const session = await openSession(doubling, 'test', 'fix', chosen('webgpu', 'WebGPU adapter (claimed)'));
    expect(session.provider).toBe('cpu');
    expect(session.providerReason).toMatch(/^webgpu failed to start \(.+\); using the CPU$/);
    expect(Array.from((await session.run(feeds())).b!.data as Float32Array)).toEqual([3, -4]);
    await session.release();
  });

  it('falls back to the CPU when the provider fails at its first run, and runs that call there', async () => {
    const cpu = () => ort.InferenceSession.create(doubling);
    const real = await cpu();
    const failing = Object.assign(Object.create(real) as ort.InferenceSession, {
      run: () => Promise.reject(new Error('WebGPU device lost\nat somewhere')),
      release: () => Promise.resolve(),
    });
    const session = new ModelSession(failing, 'webgpu', 'WebGPU adapter: test', cpu);
    expect(session.provider).toBe('webgpu');
    const [first, second] = await Promise.all([session.run(feeds()), session.run(feeds())]);
    expect(Array.from(first.b!.data as Float32Array)).toEqual([3, -4]);
    expect(Array.from(second.b!.data as Float32Array)).toEqual([3, -4]);
    expect(session.provider).toBe('cpu');
    expect(session.providerReason).toBe('webgpu failed at its first run (WebGPU device lost); using the CPU');
    await session.release();
    await real.release();
  });

  it('keeps a provider that ran once: a later failure is an error, not a silent move', async () => {
    const real = await ort.InferenceSession.create(doubling);
    let calls = 0;
    const flaky = Object.assign(Object.create(real) as ort.InferenceSession, {
      run: (f: ort.InferenceSession.FeedsType) => (calls++ === 0 ? real.run(f) : Promise.reject(new Error('lost'))),
      release: () => Promise.resolve(),
    });
    const session = new ModelSession(flaky, 'webgpu', 'WebGPU adapter: test', () =>
      ort.InferenceSession.create(doubling),
    );
    await session.run(feeds());
    await expect(session.run(feeds())).rejects.toThrow('lost');
    expect(session.provider).toBe('webgpu');
    await real.release();
  });
});

describe('winnow gpu', () => {
  const bin = resolve(import.meta.dirname, '../../bin/winnow.js');
  const gpu = (env: Record<string, string>) =>
    spawnSync(process.execPath, [bin, 'gpu'], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('says where models run, why, and what to install for each provider', () => {
    const result = gpu({ WINNOW_HOME: join(process.env.WINNOW_HOME!, 'gpu') });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Models run on cpu: no GPU provider can start \(cuda: .+; webgpu: .+\)\.$/m);
    expect(result.stdout).toMatch(/^ {2}webgpu +unavailable +.+\n +to use it: .*apt install libvulkan1/m);
    expect(result.stdout).toMatch(/^Force one with WINNOW_EXECUTION_PROVIDER=cuda\|webgpu\|dml\|coreml\|cpu/m);
  });

  it('names a bad WINNOW_EXECUTION_PROVIDER and the fix', () => {
    const result = gpu({ WINNOW_EXECUTION_PROVIDER: 'gpu' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /WINNOW_EXECUTION_PROVIDER=gpu is not an execution provider[\s\S]*one of cuda, webgpu/,
    );
  });
});
