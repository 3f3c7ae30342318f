import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Runs the real CLI in a child Node process, with its own user state directory. */
function winnow(args: string[], env: Record<string, string>, cwd?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: cwd ?? tempDir(),
    env: { ...process.env, WINNOW_PROJECT: '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('winnow CLI', () => {
  it('init, import real and status work as the README shows, on the current project', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 3, coat: 2 });

    const init = winnow(['init', join(work, 'p')], env);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/Created project .*p \(now the current project\)/);

    const imported = winnow(['import', 'real', join(work, 'real'), '--split', 'val'], env);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/Imported 5 real images into the val split/);

    const status = winnow(['status', '--json'], env);
    expect(status.code).toBe(0);
    const summary = JSON.parse(status.stdout);
    expect(summary.classes.map((c: { name: string; real: { val: number } }) => [c.name, c.real.val])).toEqual([
      ['coat', 2],
      ['shirt', 3],
    ]);
    expect(winnow(['status'], env).stdout).toMatch(/shirt\s+0\s+3\s+0/);
  });

  it('help says what the folders and metadata.jsonl of a synthetic import and export mean since relabels', () => {
    const env = { WINNOW_HOME: join(tempDir(), 'home') };
    const importHelp = winnow(['import', 'synthetic', '--help'], env).stdout.replace(/\s+/g, ' ');
    expect(importHelp).not.toMatch(/folder names are the pseudo-labels/);
    expect(importHelp).toMatch(/folder names are their labels/);
    expect(importHelp).toMatch(/pseudo_label: the class it was made for/);
    const exportHelp = winnow(['export', '--help'], env).stdout.replace(/\s+/g, ' ');
    expect(exportHelp).toMatch(/--class <names\.\.\.> only instances with these labels \(as curated: after relabels\)/);
  });

  it('exits 3 and lists what it skipped when some files are bad', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 2 });
    writeFileSync(join(work, 'real', 'shirt', 'broken.png'), 'garbage');
    winnow(['init', join(work, 'p')], env);
    const result = winnow(['import', 'real', join(work, 'real')], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/Imported 2 real images/);
    expect(result.stderr).toMatch(/Skipped 1 entry:\n\s+.*broken.png is not a readable image/);
  });

  it('exits 1 with the error and the fix for a directory that is not a project', () => {
    const work = tempDir();
    const result = winnow(['status', '--project', work], { WINNOW_HOME: join(work, 'home') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: .* is not a Winnow project/);
    expect(result.stderr).toMatch(/fix: Create one with `winnow init <dir>`/);
  });

  it('says how to start when there is no current project, and exits 2 on bad usage', () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    expect(winnow(['status'], env).stderr).toMatch(/no current project[\s\S]*winnow init <dir>/);
    const usage = winnow(['import', 'real', work, '--split', 'holdout'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are train, val, test/);
  });

  it('exports accepted instances into a folder named on the command line', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 1 });
    await makeImageFolder(join(work, 'synthetic'), { shirt: 3 }, 10);
    writeFileSync(join(work, 'synthetic', 'metadata.jsonl'), '{"file_name":"shirt/shirt-0.png","status":"accepted"}\n');
    winnow(['init', join(work, 'p')], env);
    winnow(['import', 'real', join(work, 'real')], env);
    expect(winnow(['import', 'synthetic', join(work, 'synthetic')], env).code).toBe(0);
    const result = winnow(['export', join(work, 'out')], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exported 1 accepted instances to .*out\n\s+shirt: 1/);
  });

  it('registers SD and CLIP folders, generates with SD, scores with CLIP, and the export carries the clip score', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    const fixtures = resolve(import.meta.dirname, '../fixtures/models');
    expect(winnow(['models', 'add', join(fixtures, 'tiny-sd'), '--name', 'sd'], env).stdout).toMatch(
      /Added stable-diffusion model "sd" \(fp32/,
    );
    expect(winnow(['models', 'add', join(fixtures, 'tiny-clip')], env).code).toBe(0);
    const broken = winnow(['models', 'add', work], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/neither a Stable Diffusion folder/);
    const list = winnow(['models'], env);
    expect(list.stdout).toMatch(/^sd\s+stable-diffusion\s+fp32\s+[\d.]+ KB\s+cpu\s+sd@[0-9a-f]{12}$/m);
    expect(list.stdout).toMatch(/^tiny-clip\s+clip\s+/m);

    await makeImageFolder(join(work, 'train'), { bun: 3, coat: 3 });
    await makeImageFolder(join(work, 'val'), { bun: 3, coat: 3 }, 20);
    winnow(['init', join(work, 'p')], env);
    winnow(['import', 'real', join(work, 'train'), '--split', 'train'], env);
    winnow(['import', 'real', join(work, 'val'), '--split', 'val'], env);
    const generated = winnow(
      ['generate', '--class', 'bun', '--count', '3', '--model', 'sd', '--steps', '2', '--seed', '1'],
      env,
    );
    expect(generated.stdout).toMatch(/Generated 3 instances of bun/);
    expect(generated.stderr).toMatch(/Generator sd@[0-9a-f]{12} on cpu/);
    const scored = winnow(
      ['score', '--clip', 'tiny-clip', '--encoder', 'tiny-clip', '--by', 'clip', '--rule', 'top-k:1'],
      env,
    );
    expect(scored.stderr).not.toMatch(/error/);
    expect(scored.stdout).toMatch(/Scored 3 instances .*: 1 accepted, 2 rejected by clip/);
    expect(winnow(['export', join(work, 'out')], env).code).toBe(0);
    const manifest = readFileSync(join(work, 'out', 'manifest.csv'), 'utf8').split('\n');
    const header = manifest[0]!.split(',');
    expect(header).toEqual(expect.arrayContaining(['score_clip', 'score_contribution_lookahead']));
    const row = manifest[1]!.split(',');
    expect(row[header.indexOf('generator')]).toMatch(/^sd@[0-9a-f]{12}$/);
    expect(Number(row[header.indexOf('score_clip')])).toBeGreaterThanOrEqual(-1);
    expect(winnow(['generate', '--class', 'bun', '--count', '1', '--model', 'tiny-clip'], env).stderr).toMatch(
      /"tiny-clip" is a clip model, not stable-diffusion/,
    );
  });
});
