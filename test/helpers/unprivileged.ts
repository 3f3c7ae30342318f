import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';

/**
 * Runs Node in a process that lacks write access to what `denyWrite` names. Under root (whom file
 * modes do not stop) the process runs as `nobody` and `allowWrite` is given to it; otherwise the
 * folders in `denyWrite` are made read-only for the test's own user.
 */
export function runUnprivileged(
  args: string[],
  access: { readonly allowWrite: readonly string[]; readonly denyWrite: readonly string[] },
  env: Record<string, string> = {},
) {
  const root = process.getuid?.() === 0;
  const NOBODY = 65534;
  for (const path of access.allowWrite) if (root) chownSync(path, NOBODY, NOBODY);
  for (const path of access.denyWrite) chmodSync(path, 0o555);
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
