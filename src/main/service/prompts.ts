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
 * Prompt suggestions for a class, ranked by a CLIP model when one is named (loaded for this call
 * only: a CLIP model is seconds to load, and may be removed or replaced meanwhile); the endpoint's
 * key comes from $WINNOW_LLM_API_KEY, never from a request.
 */
export async function promptSuggestionsFor(
  cls: ClassText,
  { clip, endpoint, count, generator = EMBEDDED }: Omit<Request<'promptSuggestions'>, 'classId'>,
): Promise<Responses['promptSuggestions']> {
  const prompting = generatorPrompting(generator);
  const apiKey = process.env.WINNOW_LLM_API_KEY;
  const model = clip === undefined ? undefined : await loadClip(clip);
  try {
    const result = await suggestPrompts(cls, {
      ...(model ? { clip: model } : {}),
      ...(endpoint
        ? { endpoint: { url: parseEndpointUrl(endpoint.url), model: endpoint.model, ...(apiKey ? { apiKey } : {}) } }
        : {}),
      ...(count === undefined ? {} : { count }),
    });
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
      ...(result.endpointError === undefined ? {} : { endpointError: result.endpointError }),
      generator: prompting,
    };
  } finally {
    await model?.dispose();
  }
}
