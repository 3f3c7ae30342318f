import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { initProject } from '../../src/main/store/project.ts';
import { decodedBytes, DECODE_MEMORY_BUDGET, MAX_INPUT_PIXELS, MemoryBudget } from '../../src/main/store/imageStore.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { makeImageFolder, tempDir, writePng } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** A valid black 1-bit greyscale PNG of width × height: huge in pixels, a few kB on disk. */
function blackPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0 and zero pixels per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('import limits', () => {
  it('skips images over the pixel limit with the reason, before decoding them', async () => {
    const work = tempDir();
    mkdirSync(join(work, 'real', 'shirt'), { recursive: true });
    writeFileSync(join(work, 'real', 'shirt', 'huge.png'), blackPng(16383, 16383)); // sharp's own limit
    writeFileSync(join(work, 'real', 'shirt', 'just-over.png'), blackPng(8193, 8192));
    await writePng(join(work, 'real', 'shirt', 'fine.png'), 1);
    const project = initProject(join(work, 'p'));
    const report = await importReal(project, join(work, 'real'), 'train');
    expect(report.imported).toBe(1);
    expect(report.skipped.map((s) => [s.path.split('/').pop(), s.reason])).toEqual([
      ['huge.png', "is not a readable image (it has 16383 × 16383 pixels, more than Winnow's limit of 8192 × 8192)"],
      ['just-over.png', "is not a readable image (it has 8193 × 8192 pixels, more than Winnow's limit of 8192 × 8192)"],
    ]);
    expect(listRealSamples(project.db, 'train')).toHaveLength(1);
    project.close();
  }, 60_000);

  it('bounds concurrent decodes by their memory, first come first served', async () => {
    const budget = new MemoryBudget(100);
    const order: string[] = [];
    let peak = 0;
    const job = async (name: string, bytes: number, ms: number) => {
      const release = await budget.acquire(bytes);
      peak = Math.max(peak, budget.inUse);
      order.push(name);
      await new Promise((done) => setTimeout(done, ms));
      release();
    };
    await Promise.all([job('a', 60, 30), job('b', 60, 10), job('c', 30, 10), job('huge', 500, 10), job('d', 10, 1)]);
    expect(peak).toBeLessThanOrEqual(100);
    expect(order).toEqual(['a', 'b', 'c', 'huge', 'd']); // c waits behind b though it would fit
    expect(budget.inUse).toBe(0);
    // The estimate the importer uses: two of the largest allowed RGBA images fit in the budget at once.
    expect(decodedBytes({ width: 8192, height: 8192, channels: 4, depth: 'uchar' })).toBe(2 * MAX_INPUT_PIXELS * 4);
    expect(
      Math.floor(DECODE_MEMORY_BUDGET / decodedBytes({ width: 8192, height: 8192, channels: 4, depth: 'uchar' })),
    ).toBe(2);
  });

  it.skipIf(process.platform === 'win32')(
    'follows linked class folders and files, and skips named pipes and link loops unopened',
    async () => {
      const work = tempDir();
      await makeImageFolder(join(work, 'real'), { shirt: 2 });
      await makeImageFolder(join(work, 'elsewhere'), { coat: 2 }, 50);
      symlinkSync(join(work, 'elsewhere', 'coat'), join(work, 'real', 'coat'));
      symlinkSync(join(work, 'elsewhere', 'coat', 'coat-0.png'), join(work, 'real', 'shirt', 'linked.png'));
      symlinkSync('..', join(work, 'real', 'shirt', 'loop'));
      symlinkSync('nowhere.png', join(work, 'real', 'shirt', 'dangling.png'));
      expect(spawnSync('mkfifo', [join(work, 'real', 'shirt', 'pipe.png')]).status).toBe(0);
      const home = join(work, 'home');
      const env = { ...process.env, WINNOW_HOME: home, WINNOW_PROJECT: '' };
      spawnSync(process.execPath, [BIN, 'init', join(work, 'p')], { env });
      const result = spawnSync(
        process.execPath,
        [BIN, 'import', 'real', join(work, 'real'), '--project', join(work, 'p')],
        {
          env,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(result.signal, 'import hung').toBeNull();
      expect(result.status, result.stderr).toBe(3);
      expect(result.stdout).toMatch(/Imported 4 real images/);
      expect(result.stderr).toMatch(/pipe\.png is a named pipe \(FIFO\), not a file/);
      expect(result.stderr).toMatch(/loop links back to a folder that contains it/);
      expect(result.stderr).toMatch(/dangling\.png is a symbolic link to nothing/);
      expect(result.stderr).toMatch(/linked\.png is a duplicate of/);
    },
    90_000,
  );
});
