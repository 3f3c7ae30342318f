import type { Request, Responses } from '../../shared/api.ts';
import { loadClip } from '../models/modelLoader.ts';
import type { ClassText } from '../pipeline/classPrompts.ts';
import { parseEndpointUrl, suggestPrompts } from '../pipeline/promptSuggestions.ts';

/**
 * Prompt suggestions for a class, ranked by a CLIP model when one is named (loaded for this call
 * only: a CLIP model is seconds to load, and may be removed or replaced meanwhile); the endpoint's
 * key comes from $WINNOW_LLM_API_KEY, never from a request.
 */
export async function promptSuggestionsFor(
  cls: ClassText,
  { clip, endpoint, count }: Omit<Request<'promptSuggestions'>, 'classId'>,
): Promise<Responses['promptSuggestions']> {
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
      suggestions: result.suggestions.map((s) => ({
        prompt: s.prompt,
        template: s.template,
        source: s.source,
        ...(s.clipSimilarity === undefined ? {} : { clipSimilarity: s.clipSimilarity }),
      })),
      ...(result.endpointError === undefined ? {} : { endpointError: result.endpointError }),
    };
  } finally {
    await model?.dispose();
  }
}
