// Electron's fuses for a packaged Winnow (Electron's security checklist, item 19: switch off what the
// app does not use, in the binary itself, where neither an environment variable nor a command-line
// flag can switch it back on). The repository has no packager yet, so this is a step of its own:
//
//   node tools/packaging/flip-fuses.ts <packaged Electron binary, or the .app on macOS> [--reset-adhoc-signature]
//
// Run it after packaging (the app in resources/app.asar) and before code signing: signing is what
// keeps the flipped bits from being flipped back. With electron-builder it belongs in an afterPack
// hook, with Electron Forge in packageAfterCopy, both calling flipWinnowFuses. On Apple Silicon
// without immediate signing, pass --reset-adhoc-signature.
import { fileURLToPath } from 'node:url';
import { type FuseConfig, FuseState, FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } from '@electron/fuses';

/**
 * Every fuse Electron has (strict: a newer Electron with a fuse not listed here fails the step, so
 * each new one gets a decision).
 */
export const WINNOW_FUSES = {
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  // ELECTRON_RUN_AS_NODE would turn the signed binary into a plain Node for anyone; the engine runs
  // in a utility process, which does not need it.
  [FuseV1Options.RunAsNode]: false,
  // Cookies (none today) encrypted at rest with the OS keychain.
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS (e.g. --require) would load code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect and friends would open a debugger on the main process.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // The app code is only ever app.asar, and that archive is checked against the hash the packager
  // embedded (macOS and Windows), so it cannot be swapped or edited after signing.
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // No browser-process-specific V8 snapshot is shipped.
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The window loads from app://winnow, never file://, so file:// pages get nothing beyond a browser's.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  // Electron's default: WebAssembly out-of-bounds accesses trapped by signal handlers.
  [FuseV1Options.WasmTrapHandlers]: true,
} as const satisfies FuseConfig;

/** Fuses that differ between the binary at `path` and WINNOW_FUSES, as "Name: is → should be". */
export async function fuseMismatches(path: string): Promise<string[]> {
  const wire = await getCurrentFuseWire(path);
  const mismatches: string[] = [];
  for (const option of Object.values(FuseV1Options)) {
    if (typeof option !== 'number') continue;
    const want = WINNOW_FUSES[option] ? FuseState.ENABLE : FuseState.DISABLE;
    const have = wire[option];
    if (have !== want)
      mismatches.push(`${FuseV1Options[option]}: ${FuseState[have ?? FuseState.REMOVED]} → ${FuseState[want]}`);
  }
  return mismatches;
}

/** Flips the fuses of the packaged binary at `path`, then reads them back; throws unless all match. */
export async function flipWinnowFuses(path: string, options: { resetAdHocDarwinSignature?: boolean } = {}) {
  await flipFuses(path, { ...WINNOW_FUSES, resetAdHocDarwinSignature: options.resetAdHocDarwinSignature ?? false });
  const left = await fuseMismatches(path);
  if (left.length > 0) throw new Error(`${path} still has fuses that differ after flipping: ${left.join('; ')}.`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const path = args.find((arg) => !arg.startsWith('--'));
  if (path === undefined) {
    console.error(
      'Usage: node tools/packaging/flip-fuses.ts <packaged Electron binary or .app> [--reset-adhoc-signature]',
    );
    process.exit(2);
  }
  try {
    await flipWinnowFuses(path, { resetAdHocDarwinSignature: args.includes('--reset-adhoc-signature') });
    const settings = Object.entries(WINNOW_FUSES)
      .filter(([key]) => /^\d+$/.test(key))
      .map(([key, on]) => `${FuseV1Options[Number(key)]} ${on ? 'on' : 'off'}`);
    console.log(`Fuses of ${path} set and verified: ${settings.join(', ')}.`);
  } catch (error) {
    console.error(`Could not set the fuses of ${path}: ${(error as Error).message}`);
    process.exit(1);
  }
}
