import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import { type Db, writeTransaction } from './database.ts';

export interface ClassRow {
  readonly id: number;
  readonly name: string;
  readonly promptTemplates: readonly string[];
  readonly negativePrompt: string;
  readonly disambiguation: string;
  readonly budgetWeight: number;
  /** Classifier-free guidance for this class's images; null: the generator's default (or the run's). */
  readonly guidanceScale: number | null;
}

export interface NewClass {
  readonly name: string;
  readonly promptTemplates?: readonly string[];
  readonly negativePrompt?: string;
  readonly disambiguation?: string;
  readonly budgetWeight?: number;
  /** null clears it (back to the generator's default); undefined leaves it. */
  readonly guidanceScale?: number | null;
}

interface ClassRecord {
  id: number;
  name: string;
  prompt_templates: string;
  negative_prompt: string;
  disambiguation: string;
  budget_weight: number;
  guidance_scale: number | null;
}

const SELECT =
  'SELECT id, name, prompt_templates, negative_prompt, disambiguation, budget_weight, guidance_scale FROM classes';

function fromRecord(r: ClassRecord): ClassRow {
  return {
    id: r.id,
    name: r.name,
    promptTemplates: JSON.parse(r.prompt_templates) as string[],
    negativePrompt: r.negative_prompt,
    disambiguation: r.disambiguation,
    budgetWeight: r.budget_weight,
    guidanceScale: r.guidance_scale,
  };
}

// Windows device names: a file or folder named so, with any extension ("con.txt", "nul.tar.gz") and
// spaces before it, opens the device instead (the superscript digits count too).
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$) *(\..*)?$/iu;

/**
 * A class name becomes a folder name in ImageFolder imports and exports, so it must be one on
 * every platform: no path separators, no reserved names, no surrounding spaces, no trailing dot
 * (Windows drops it, so "shirt." and "shirt" would be one folder).
 */
export function checkClassName(name: string): string {
  const problem =
    name.length === 0
      ? 'is empty'
      : name.length > 100
        ? 'is longer than 100 characters'
        : name !== name.trim()
          ? 'starts or ends with a space'
          : name === '.' || name === '..'
            ? 'is a relative path'
            : /[/\\:*?"<>|\p{Cc}]/u.test(name)
              ? 'contains a character not allowed in folder names (/ \\ : * ? " < > | or a control character)'
              : name.endsWith('.')
                ? 'ends with a dot, which Windows drops from folder names'
                : WINDOWS_RESERVED.test(name)
                  ? 'is a device name on Windows (CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9), also with an extension'
                  : undefined;
  if (problem !== undefined) {
    throw new WinnowError(
      `Class name "${name}" ${problem}.`,
      'Use a name that is also a valid folder name, e.g. "t-shirt".',
    );
  }
  return name;
}

export function listClasses(db: Db): ClassRow[] {
  return db.prepare<[], ClassRecord>(`${SELECT} ORDER BY id`).all().map(fromRecord);
}

/** The class of this name, or of one that is the same folder on macOS and Windows (sameFolderAs). */
export function findClass(db: Db, name: string): ClassRow | undefined {
  const r = db.prepare<[string], ClassRecord>(`${SELECT} WHERE name = ?`).get(stored(name));
  if (r !== undefined) return fromRecord(r);
  // NOCASE has compared A–Z already; other letters need sameFolderAs (a scan: classes are few).
  return /[^\0-\x7f]/u.test(name) ? sameFolderAs(db, name) : undefined;
}

export function getClass(db: Db, id: number): ClassRow {
  const r = db.prepare<[number], ClassRecord>(`${SELECT} WHERE id = ?`).get(id);
  if (r === undefined) throw new WinnowError(`There is no class with id ${id}.`);
  return fromRecord(r);
}

/** A class name as stored and looked up: Unicode NFC, so "café" typed composed or not (macOS names files decomposed) is one class. */
const stored = (name: string) => name.normalize('NFC');

/**
 * The class whose name would be the same folder on a case-insensitive file system (macOS's and
 * Windows' defaults): compared after Unicode lowercasing, where SQLite's NOCASE folds only A–Z.
 */
function sameFolderAs(db: Db, name: string): ClassRow | undefined {
  const key = stored(name).toLowerCase();
  return listClasses(db).find((c) => stored(c.name).toLowerCase() === key);
}

function nameTaken(name: string, by: ClassRow, fix: string): WinnowError {
  return new WinnowError(
    `Class "${name}" already exists${by.name === name ? '' : ` as "${by.name}" (one folder on macOS and Windows)`}.`,
    fix,
  );
}

export function addClass(db: Db, input: NewClass): ClassRow {
  checkClassName(input.name);
  const taken = sameFolderAs(db, input.name);
  if (taken !== undefined) throw nameTaken(input.name, taken, 'Choose another name or edit the existing class.');
  const id = db
    .prepare(
      'INSERT INTO classes (name, prompt_templates, negative_prompt, disambiguation, budget_weight, guidance_scale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      stored(input.name),
      JSON.stringify(input.promptTemplates ?? ['a photo of a {label}']),
      input.negativePrompt ?? '',
      input.disambiguation ?? '',
      input.budgetWeight ?? 1,
      input.guidanceScale ?? null,
      now(),
    ).lastInsertRowid;
  return getClass(db, Number(id));
}

/** Changes the given settings of a class, the others as stored now (read under the write lock). */
export function updateClass(db: Db, id: number, changes: Partial<Omit<NewClass, 'name'>>): ClassRow {
  return writeTransaction(db, () => {
    const current = getClass(db, id);
    db.prepare(
      'UPDATE classes SET prompt_templates = ?, negative_prompt = ?, disambiguation = ?, budget_weight = ?, guidance_scale = ? WHERE id = ?',
    ).run(
      JSON.stringify(changes.promptTemplates ?? current.promptTemplates),
      changes.negativePrompt ?? current.negativePrompt,
      changes.disambiguation ?? current.disambiguation,
      changes.budgetWeight ?? current.budgetWeight,
      changes.guidanceScale === undefined ? current.guidanceScale : changes.guidanceScale,
      id,
    );
    return getClass(db, id);
  });
}

/** Adds prompt templates a class lacks to the ones it has now; returns how many were added. */
export function addPromptTemplates(db: Db, id: number, templates: readonly string[]): number {
  return writeTransaction(db, () => {
    const { promptTemplates } = getClass(db, id);
    const next = [...new Set([...promptTemplates, ...templates])];
    updateClass(db, id, { promptTemplates: next });
    return next.length - promptTemplates.length;
  });
}

/**
 * Renames a class. Images are stored by hash and rows point at the class by id, so nothing else
 * changes; later ImageFolder imports and exports use the new name as the folder name.
 */
export function renameClass(db: Db, id: number, name: string): ClassRow {
  const current = getClass(db, id);
  checkClassName(name);
  const other = sameFolderAs(db, name);
  if (other !== undefined && other.id !== id)
    throw nameTaken(name, other, `Choose another name for "${current.name}".`);
  db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(stored(name), id);
  return getClass(db, id);
}
