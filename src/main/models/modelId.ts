import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';

/**
 * "folder-name@hash": the hash covers every file of a model folder (weights, external weight data,
 * configs, tokenizer), streamed, so it names the exact weights; instances store it as their
 * generator or encoder.
 */
export async function modelId(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${relative(dir, file)}\0`);
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return `${basename(dir)}@${hash.digest('hex').slice(0, 12)}`;
}
