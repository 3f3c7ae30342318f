import type {
  LabelIssues,
  LabelSuggestionInfo,
  Request,
  Responses,
  SuggestedInstanceSummary,
} from '../../shared/api.ts';
import { DEFAULT_SCORE_KIND } from '../../shared/scoreKinds.ts';
import { WinnowError } from '../errors.ts';
import { listClasses } from '../store/classes.ts';
import { relabelEach } from '../store/curation.ts';
import { type Db, writeTransaction } from '../store/database.ts';
import { getInstance } from '../store/instances.ts';
import { summary } from './winnowService.ts';
import { withTags } from './tagging.ts';
import { pageOfSuggestions, type SuggestedInstance, suggestionMatrix, suggestionOf } from '../store/suggestions.ts';

/**
 * Label issues: where the scoring head's suggested label (its most probable class, out-of-sample)
 * disagrees with an instance's pseudo-label, counted as a matrix, listed by cell, and applied as a
 * curator's relabel.
 */

/** The matrix of pseudo-label × suggested label over the instances of `status` (all when not given). */
export function labelIssues(db: Db, status?: Request<'labelIssues'>['status']): LabelIssues {
  const { cells, unsuggested } = suggestionMatrix(db, status);
  const marked = cells.map((c) => ({ ...c, disagreement: c.labelId !== c.suggestedId }));
  const total = (list: readonly { count: number }[]) => list.reduce((n, c) => n + c.count, 0);
  return {
    classes: listClasses(db).map((c) => ({ id: c.id, name: c.name })),
    cells: marked,
    suggested: total(marked),
    disagreements: total(marked.filter((c) => c.disagreement)),
    unsuggested,
  };
}

/** An instance with its suggestion as the API shows it; `score` is the default ranking. */
function suggestedSummaries(db: Db, items: readonly SuggestedInstance[]): SuggestedInstanceSummary[] {
  return withTags(
    db,
    items.map((i) => ({ ...summary(i, i.score), suggestion: { labelId: i.suggestedId, probability: i.probability } })),
  );
}

/** One cell's instances, the most probable suggestion first. */
export function labelIssueInstances(
  db: Db,
  { labelId, suggestedId, status, offset, limit }: Request<'labelIssueInstances'>,
): Responses['labelIssueInstances'] {
  const page = pageOfSuggestions(
    db,
    { cell: { labelId, suggestedId }, offset, limit, ...(status ? { status } : {}) },
    DEFAULT_SCORE_KIND,
  );
  return { total: page.total, items: suggestedSummaries(db, page.items) };
}

/** The `limit` disagreements (suggestion ≠ pseudo-label) the head is surest of, of `status` when given. */
export function topDisagreements(
  db: Db,
  limit: number,
  status?: Request<'labelIssues'>['status'],
): Responses['labelIssueInstances'] {
  const page = pageOfSuggestions(db, { offset: 0, limit, ...(status ? { status } : {}) }, DEFAULT_SCORE_KIND);
  return { total: page.total, items: suggestedSummaries(db, page.items) };
}

/**
 * Relabels each instance to its suggested label in one batch of curator relabels (so exports, the
 * audit trail and undo see a relabel); instances already labelled as suggested are left alone.
 */
export function applySuggestedLabels(db: Db, ids: readonly number[]): Responses['applySuggestedLabels'] {
  // One write transaction: no scoring can move a suggestion between reading it and applying it.
  return writeTransaction(db, () => {
    const targets = new Map<number, number>();
    for (const id of ids) {
      const instance = getInstance(db, id);
      if (instance === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
      const suggestion = suggestionOf(db, id);
      if (suggestion === undefined)
        throw new WinnowError(
          `Instance ${id} has no suggested label: it has not been scored.`,
          'Score the project (winnow score, or a run of the loop), then apply suggestions.',
        );
      if (suggestion.labelId !== instance.labelId) targets.set(id, suggestion.labelId);
    }
    return { batch: targets.size === 0 ? null : relabelEach(db, targets), relabelled: targets.size };
  });
}

/** An instance's suggested label as its detail shows it (null until it is scored). */
export function suggestionDetail(db: Db, id: number): LabelSuggestionInfo | null {
  const s = suggestionOf(db, id);
  return s === undefined ? null : { labelId: s.labelId, probability: s.probability };
}
