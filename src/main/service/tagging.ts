import type { Responses, SavedView, SavedViewSettings, WinnowApi } from '../../shared/api.ts';
import { tagInstances } from '../store/curation.ts';
import type { Db } from '../store/database.ts';
import { instancesMatching } from '../store/instances.ts';
import { deleteSavedView, listSavedViews, saveView } from '../store/savedViews.ts';
import { setNote, tagCounts, tagsOf } from '../store/tags.ts';

/** Curating like a team: tags and notes on instances, and the project's saved review views. */

/** Summaries of a list with each one's tags, read in one query for the whole list. */
export function withTags<T extends { readonly id: number }>(db: Db, items: readonly T[]): (T & { tags: string[] })[] {
  const tags = tagsOf(
    db,
    items.map((i) => i.id),
  );
  return items.map((i) => ({ ...i, tags: tags.get(i.id) ?? [] }));
}

/** The API methods of tags, notes and saved views over one project's database. */
export function taggingMethods(
  db: Db,
): Pick<
  WinnowApi,
  'tagAdd' | 'tagRemove' | 'tagList' | 'noteSet' | 'viewList' | 'viewSave' | 'viewDelete' | 'viewInstances'
> {
  return {
    tagAdd: async ({ ids, tags }) => tagInstances(db, ids, 'tag', tags),
    tagRemove: async ({ ids, tags }) => tagInstances(db, ids, 'untag', tags),
    tagList: async () => ({ tags: tagCounts(db) }),
    noteSet: async ({ id, text }) => ({ note: setNote(db, id, text) }),
    viewList: async () => ({ views: listSavedViews<SavedViewSettings>(db) satisfies SavedView[] }),
    viewSave: async ({ name, view }) => saveView(db, name, view),
    viewDelete: async ({ id }) => {
      deleteSavedView(db, id);
      return { deleted: id };
    },
    viewInstances: async ({ kind, ...filter }): Promise<Responses['viewInstances']> => {
      const rows = instancesMatching(db, kind, filter);
      return { ids: rows.map((r) => r.id), scores: rows.map((r) => r.score) };
    },
  };
}
