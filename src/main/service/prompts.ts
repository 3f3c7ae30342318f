import type { Request, Responses } from '../../shared/api.ts';
import { EMBEDDED, loadClip } from '../models/modelLoader.ts';
import type { ClassText } from '../pipeline/classPrompts.ts';
import { CONTEXT_TEMPLATES, parseEndpointUrl, STYLE_TEMPLATES, suggestPrompts } from '../pipeline/promptSuggestions.ts';
import { generatorPrompting } from './generatorPrompting.ts';

/** Which of the engine's own template lists a suggestion came from. */
function aspectOf(template: string | null): 'context' | 'style' | undefined {
  if ((STYLE_TEMPLATES as readonly (string | null)[]).includes(template)) return 'style';
  if ((CONTEXT_TEMPLATES as readonly (string | null)[]).includes(template)) return 'context';
  return undefined;
}

/**
 * The engine's API key for a request's endpoint, or why it is withheld. The key
 * ($WINNOW_LLM_API_KEY) goes only to the origin of $WINNOW_LLM_ENDPOINT, the endpoint the user gave
 * it for: a request names its endpoint, and a key sent wherever a request points is a key handed to
 * anyone who can make one.
 */
export function endpointKey(url: string, env: NodeJS.ProcessEnv = process.env): { apiKey?: string; withheld?: string } {
  const apiKey = env.WINNOW_LLM_API_KEY;
  if (!apiKey) return {};
  const pinned = env.WINNOW_LLM_ENDPOINT;
  if (!pinned)
    return {
      withheld:
        '$WINNOW_LLM_API_KEY was not sent: set $WINNOW_LLM_ENDPOINT to the endpoint the key is for (e.g. https://api.openai.com/v1)',
    };
  let origin: string;
  try {
    origin = new URL(parseEndpointUrl(pinned)).origin;
  } catch {
    return { withheld: `$WINNOW_LLM_API_KEY was not sent: $WINNOW_LLM_ENDPOINT ("${pinned}") is not an http(s) URL` };
  }
  if (new URL(url).origin === origin) return { apiKey };
  return { withheld: `$WINNOW_LLM_API_KEY was not sent: it goes only to $WINNOW_LLM_ENDPOINT's ${origin}` };
}

/**
 * Prompt suggestions for a class, ranked by a CLIP model when one is named (loaded for this call
 * only: a CLIP model is seconds to load, and may be removed or replaced meanwhile); the endpoint's
 * key comes from the engine's environment (`endpointKey`), never from a request.
 */
export async function promptSuggestionsFor(
  cls: ClassText,
  { clip, endpoint, count, generator = EMBEDDED }: Omit<Request<'promptSuggestions'>, 'classId'>,
): Promise<Responses['promptSuggestions']> {
  const prompting = generatorPrompting(generator);
  const url = endpoint && parseEndpointUrl(endpoint.url);
  const key: ReturnType<typeof endpointKey> = url ? endpointKey(url) : {};
  const model = clip === undefined ? undefined : await loadClip(clip);
  try {
    const result = await suggestPrompts(cls, {
      ...(model ? { clip: model } : {}),
      ...(endpoint && url
        ? { endpoint: { url, model: endpoint.model, ...(key.apiKey ? { apiKey: key.apiKey } : {}) } }
        : {}),
      ...(count === undefined ? {} : { count }),
    });
    // A failure a withheld key may explain says so; a keyless endpoint that answered needs no word.
    const endpointError =
      result.endpointError === undefined || key.withheld === undefined
        ? result.endpointError
        : `${result.endpointError}; ${key.withheld}`;
    return {
      suggestions: result.suggestions.map((s) => {
        const aspect = s.source === 'template' ? aspectOf(s.template) : undefined;
        return {
          prompt: s.prompt,
          template: s.template,
          source: s.source,
          ...(aspect === undefined ? {} : { aspect }),
          ...(s.clipSimilarity === undefined ? {} : { clipSimilarity: s.clipSimilarity }),
        };
      }),
      ...(endpointError === undefined ? {} : { endpointError }),
      generator: prompting,
    };
  } finally {
    await model?.dispose();
  }
}
