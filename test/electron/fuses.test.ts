import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../tools/packaging/flip-fuses.ts');
// Where Electron keeps its fuse wire: this marker, then the wire's version, length and one byte per fuse.
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron 45's nine fuses as shipped: RunAsNode on, cookie encryption off, NODE_OPTIONS on,
// --inspect on, asar integrity off, asar only off, browser V8 snapshot off, file:// privileges on, Wasm traps on.
const ELECTRON_DEFAULTS = '101100011';

/** A stand-in for an Electron binary: random bytes around a fuse wire. */
function fakeElectron(wire: string): string {
  const path = join(tempDir(), 'electron');
  const header = Buffer.concat([Buffer.from(SENTINEL), Buffer.from([1, wire.length]), Buffer.from(wire)]);
  writeFileSync(path, Buffer.concat([randomBytes(200_000), header, randomBytes(50_000)]));
  return path;
}

async function flip(path: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, path]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, output: failed.stderr };
  }
}

describe('the packaging step that flips Electron fuses', () => {
  it('turns off RunAsNode, NODE_OPTIONS, --inspect and file:// privileges, and loads the app only from a checked asar', async () => {
    const path = fakeElectron(ELECTRON_DEFAULTS);
    const before = readFileSync(path);
    const { code, output } = await flip(path);
    expect(code, output).toBe(0);
    expect(output).toMatch(/RunAsNode off.*OnlyLoadAppFromAsar on/);
    const wire = await getCurrentFuseWire(path);
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(FuseState.DISABLE);
    // Only the wire changed.
    const after = readFileSync(path);
    const wireAt = before.indexOf(SENTINEL) + SENTINEL.length + 2;
    expect(after.length).toBe(before.length);
    expect(after.subarray(0, wireAt).equals(before.subarray(0, wireAt))).toBe(true);
    expect(after.subarray(wireAt + 9).equals(before.subarray(wireAt + 9))).toBe(true);
  });

  it('refuses a newer Electron with a fuse it has no setting for, and leaves it untouched', async () => {
    const path = fakeElectron(`${ELECTRON_DEFAULTS}1`);
    const before = readFileSync(path);
    const { code, output } = await flip(path);
    expect(code).toBe(1);
    expect(output).toMatch(/Could not set the fuses.*10 fuses/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that is not an Electron binary, and a missing argument', async () => {
    const path = join(tempDir(), 'not-electron');
    writeFileSync(path, randomBytes(10_000));
    expect(await flip(path)).toMatchObject({ code: 1, output: expect.stringMatching(/Could not find sentinel/) });
    await expect(run(process.execPath, [SCRIPT])).rejects.toMatchObject({ code: 2 });
  });
});
