import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';

const configSchema = z.looseObject({
  model_max_length: z.number().int().positive().max(100_000).optional(),
  bos_token: z.union([z.string(), z.looseObject({ content: z.string() })]).optional(),
  eos_token: z.union([z.string(), z.looseObject({ content: z.string() })]).optional(),
  pad_token: z.union([z.string(), z.looseObject({ content: z.string() })]).optional(),
});

const START = '<|startoftext|>';
const END = '<|endoftext|>';

/** Token ids of a prompt, padded or cut to the text encoder's fixed length. */
export interface TokenizedPrompt {
  readonly ids: Int32Array;
  readonly attentionMask: Int32Array;
  /** The prompt's words that did not fit in the context (never silently dropped). */
  readonly truncatedWords: readonly string[];
}

/**
 * A CLIP tokenizer from a model folder's own files, run by @huggingface/tokenizers. Folders that
 * ship only the slow tokenizer's vocab.json and merges.txt (common in Stable Diffusion exports) get
 * the fast tokenizer document CLIPTokenizerFast builds from the same two files: the BPE itself is
 * the library's.
 */
export class ClipTokenizer {
  readonly maxLength: number;
  readonly padId: number;
  private readonly tokenizer: Tokenizer;

  private constructor(tokenizer: Tokenizer, maxLength: number, padId: number) {
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.padId = padId;
  }

  static load(dir: string): ClipTokenizer {
    const fix = `Export the model again with Hugging Face Optimum so that ${dir} holds tokenizer.json, or vocab.json and merges.txt, and tokenizer_config.json.`;
    const config = configSchema.safeParse(readJsonFile(join(dir, 'tokenizer_config.json'), fix));
    if (!config.success)
      throw new WinnowError(
        `${join(dir, 'tokenizer_config.json')} is malformed: ${config.error.issues[0]?.message}`,
        fix,
      );
    const document = existsSync(join(dir, 'tokenizer.json'))
      ? readJsonFile(join(dir, 'tokenizer.json'), fix)
      : clipTokenizerDocument(dir, fix);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(document as object, config.data);
    } catch (error) {
      throw new WinnowError(`The tokenizer in ${dir} cannot be read: ${(error as Error).message}`, fix);
    }
    const name = (token: z.infer<typeof configSchema>['pad_token']) =>
      typeof token === 'object' ? token.content : token;
    const padId = tokenizer.token_to_id(name(config.data.pad_token) ?? END);
    if (padId === undefined) throw new WinnowError(`The padding token of ${dir} is not in its vocabulary.`, fix);
    // CLIP text encoders have 77 positions; tokenizer configs sometimes carry a huge sentinel instead.
    const maxLength = Math.min(config.data.model_max_length ?? 77, 77);
    return new ClipTokenizer(tokenizer, maxLength, padId);
  }

  tokenize(prompt: string): TokenizedPrompt {
    const ids = this.tokenizer.encode(prompt).ids;
    const ids32 = new Int32Array(this.maxLength).fill(this.padId);
    const mask = new Int32Array(this.maxLength);
    let truncatedWords: string[] = [];
    if (ids.length > this.maxLength) {
      // Keep the end-of-text token: CLIP pools at its position.
      const kept = [...ids.slice(0, this.maxLength - 1), ids[ids.length - 1] as number];
      truncatedWords = this.tokenizer
        .decode(ids.slice(this.maxLength - 1, -1), { skip_special_tokens: true })
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      ids32.set(kept);
      mask.fill(1);
    } else {
      ids32.set(ids);
      mask.fill(1, 0, ids.length);
    }
    return { ids: ids32, attentionMask: mask, truncatedWords };
  }
}

function readJsonFile(path: string, fix: string): unknown {
  if (!existsSync(path)) throw new WinnowError(`${path} is missing.`, fix);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WinnowError(`${path} is not valid JSON: ${(error as Error).message}`, fix);
  }
}

/** CLIPTokenizerFast's tokenizer.json for a vocab.json and merges.txt pair. */
function clipTokenizerDocument(dir: string, fix: string): object {
  const vocab = z.record(z.string(), z.number().int()).safeParse(readJsonFile(join(dir, 'vocab.json'), fix));
  if (!vocab.success) throw new WinnowError(`${join(dir, 'vocab.json')} is not a token → id map.`, fix);
  const mergesPath = join(dir, 'merges.txt');
  if (!existsSync(mergesPath)) throw new WinnowError(`${mergesPath} is missing.`, fix);
  const merges = readFileSync(mergesPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#version'));
  const special = (content: string) => {
    const id = vocab.data[content];
    if (id === undefined) throw new WinnowError(`${join(dir, 'vocab.json')} lacks the special token ${content}.`, fix);
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true };
  };
  const start = special(START);
  const end = special(END);
  return {
    version: '1.0',
    added_tokens: [start, end],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END, end.id],
      cls: [START, start.id],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: vocab.data,
      merges,
    },
  };
}
