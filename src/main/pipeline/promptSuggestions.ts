import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { type ClipModel, clipScores } from '../models/clip.ts';
import { classMeaning, type ClassText, disambiguatedLabel, fillTemplate } from './classPrompts.ts';

/**
 * Prompt diversification (seed 003, "Diversify, Don't Fine-Tune, and Scale up"): the class name is
 * disambiguated ("bun, a bread roll"), then varied by context (where the object is) and by style
 * (how it is depicted). The templates always work offline; an OpenAI-compatible endpoint may add
 * suggestions; CLIP, when given, ranks every candidate by how close it stays to the class's
 * disambiguated meaning, so a prompt that drifts towards "bunny" ranks low.
 */
export const CONTEXT_TEMPLATES = [
  'a realistic photo of a {label}',
  'a photo of a {label} on a table',
  'a photo of a {label} on a shelf',
  'a close-up photo of a {label}',
  'a photo of a {label} outdoors',
  'a photo of a {label} in a cluttered room',
  'a photo of a {label} seen from above',
  'a photo of a {label} in soft studio light',
] as const;

export const STYLE_TEMPLATES = [
  'a watercolour painting of a {label}',
  'a pencil sketch of a {label}',
  'a 3D render of a {label}',
  'an oil painting of a {label}',
  'a product photo of a {label} on a white background',
  'a blurry phone photo of a {label}',
] as const;

export interface PromptSuggestion {
  readonly prompt: string;
  /**
   * The same as a class template (with {label}, which becomes the disambiguated name), so it can be
   * added to the class; null for an endpoint's prompt that never names the class.
   */
  readonly template: string | null;
  readonly source: 'template' | 'endpoint';
  /** CLIP cosine between the prompt and the class's disambiguated meaning, when a CLIP model ranked them. */
  readonly clipSimilarity?: number;
}

export interface SuggestOptions {
  readonly clip?: ClipModel;
  /** An OpenAI-compatible chat completions endpoint, e.g. http://localhost:8000/v1. */
  readonly endpoint?: { readonly url: string; readonly model: string; readonly apiKey?: string };
  /** How many endpoint suggestions to ask for. */
  readonly count?: number;
  readonly signal?: AbortSignal;
}

export interface Suggestions {
  readonly suggestions: readonly PromptSuggestion[];
  /** Why the endpoint was not used, when one was given and failed (the templates still were). */
  readonly endpointError?: string;
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

async function fromEndpoint(
  cls: ClassText,
  endpoint: NonNullable<SuggestOptions['endpoint']>,
  count: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const url = `${endpoint.url.replace(/\/+$/, '')}/chat/completions`;
  const meaning = cls.disambiguation.trim() || cls.name;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
    },
    body: JSON.stringify({
      model: endpoint.model,
      temperature: 0.8,
      messages: [
        {
          role: 'system',
          content:
            'You write prompts for a text-to-image model that makes training images for a classifier. Answer with a JSON array of strings only.',
        },
        {
          role: 'user',
          content: `Write ${count} varied prompts, each showing one "${cls.name}" (meaning: ${meaning}) in a different setting or style. Never depict other meanings of the word.`,
        },
      ],
    }),
    signal: AbortSignal.any([AbortSignal.timeout(30_000), ...(signal ? [signal] : [])]),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  const parsed = completionSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error(`${url} did not answer in the chat completions format`);
  const content = parsed.data.choices[0]!.message.content;
  const list = z
    .array(z.string().min(1))
    .safeParse(JSON.parse(content.slice(content.indexOf('['), content.lastIndexOf(']') + 1)));
  if (!list.success) throw new Error(`${url} did not answer with a JSON array of prompts`);
  return list.data.slice(0, count).map((p) => p.trim());
}

/** Candidate prompts for a class: templates, endpoint suggestions, ranked by CLIP when given. */
export async function suggestPrompts(cls: ClassText, options: SuggestOptions = {}): Promise<Suggestions> {
  const label = disambiguatedLabel(cls);
  const candidates: Omit<PromptSuggestion, 'clipSimilarity'>[] = [...CONTEXT_TEMPLATES, ...STYLE_TEMPLATES].map(
    (template) => ({ prompt: fillTemplate(template, label), template, source: 'template' as const }),
  );
  let endpointError: string | undefined;
  if (options.endpoint) {
    try {
      const suggested = await fromEndpoint(cls, options.endpoint, options.count ?? 8, options.signal);
      candidates.push(
        ...suggested.map((prompt) => ({ prompt, template: asTemplate(prompt, cls.name), source: 'endpoint' as const })),
      );
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // fetch's own message ("fetch failed") hides the reason in its cause (e.g. ECONNREFUSED).
      const cause = (error as Error & { cause?: { message?: string } }).cause?.message;
      endpointError = cause ? `${(error as Error).message}: ${cause}` : (error as Error).message;
    }
  }
  const unique = candidates.filter((c, i) => candidates.findIndex((d) => d.prompt === c.prompt) === i);
  if (!options.clip) return { suggestions: unique, ...(endpointError ? { endpointError } : {}) };
  const clip = options.clip;
  // Each prompt's embedding against the one meaning (text 0 for every row).
  const similarity = clipScores(
    await clip.encodeText(unique.map((c) => c.prompt)),
    await clip.encodeText([classMeaning(cls)]),
    new Int32Array(unique.length),
    clip.dim,
  );
  const ranked = unique
    .map((c, k) => ({ ...c, clipSimilarity: similarity[k] as number }))
    .sort((a, b) => b.clipSimilarity - a.clipSimilarity);
  return { suggestions: ranked, ...(endpointError ? { endpointError } : {}) };
}

/** An endpoint's prompt as a template: its first mention of the class name becomes {label}. */
function asTemplate(prompt: string, name: string): string | null {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const mention = new RegExp(`\\b${escaped}\\b`, 'i');
  return mention.test(prompt) ? prompt.replace(mention, '{label}') : null;
}

/** Checks an endpoint URL before any request: http(s) only. */
export function parseEndpointUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WinnowError(`"${url}" is not a URL.`, 'Give the endpoint as http(s)://host:port/v1.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new WinnowError(`"${url}" is not an http(s) URL.`, 'Give the endpoint as http(s)://host:port/v1.');
  return parsed.toString();
}
