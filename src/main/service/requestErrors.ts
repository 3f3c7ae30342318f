import { BSGAL_THRESHOLD } from '../../shared/runSettings.ts';
import type { z } from 'zod';
import type { Method } from '../../shared/methods.ts';

/** What people call a request field, and (where a bound alone does not say it) what to give instead. */
interface Field {
  readonly name: string;
  readonly hint?: string;
}

/**
 * Every request field's human name, by its path with list indices left out. A `method.path`
 * entry names a field that means something else in that method.
 */
const FIELDS: Record<string, Field> = {
  rounds: { name: 'the number of rounds' },
  perRound: { name: 'the number of images per round' },
  seed: { name: 'the seed' },
  filter: { name: 'the filter' },
  rule: { name: 'the acceptance rule' },
  'rule.kind': { name: "the acceptance rule's kind" },
  'rule.keep': { name: "the acceptance rule's share to keep", hint: 'give a share such as 0.7' },
  'rule.threshold': {
    name: "the acceptance rule's threshold",
    hint: `give a score such as ${BSGAL_THRESHOLD} (BSGAL's for cosine contribution)`,
  },
  'rule.window': { name: "the acceptance rule's window of recent scores", hint: 'give a count such as 500' },
  acquisition: { name: 'the acquisition strategy' },
  scoring: { name: 'the scoring mode' },
  epsilon: { name: 'the perturbation size (epsilon)', hint: 'give a size such as 0.25' },
  generator: { name: 'the generator' },
  encoder: { name: 'the backbone' },
  clip: { name: 'the CLIP score model' },
  resume: {
    name: 'the resume flag',
    hint: 'send {"resume": true} to resume the latest unfinished run, or the settings of a new run',
  },
  dir: { name: 'the project folder' },
  classId: { name: 'the class id' },
  n: { name: 'the number of instances to show' },
  kind: { name: 'the score kind' },
  labelId: { name: 'the label id' },
  'curate.labelId': { name: 'the new label', hint: 'give the id of the class to relabel to' },
  status: { name: 'the status' },
  order: { name: 'the order' },
  minScore: { name: 'the minimum score' },
  maxScore: { name: 'the maximum score' },
  roundIndex: { name: 'the round' },
  generatorId: { name: 'the generator id' },
  promptContains: { name: 'the prompt filter' },
  tag: { name: 'the tag filter' },
  tags: { name: 'the tags', hint: 'give one to twenty tags, each one line of at most 64 characters' },
  text: { name: 'the note' },
  'noteSet.id': { name: 'the instance id' },
  'viewSave.name': { name: 'the view name', hint: 'give a name such as "blurry shirts"' },
  view: { name: 'the view' },
  'view.order': { name: "the view's sort" },
  'view.kind': { name: "the view's score kind" },
  'view.status': { name: "the view's status filter" },
  'view.minScore': { name: "the view's minimum score" },
  'view.maxScore': { name: "the view's maximum score" },
  'view.roundIndex': { name: "the view's round" },
  'view.generatorId': { name: "the view's generator id" },
  'view.promptContains': { name: "the view's prompt filter" },
  'view.tag': { name: "the view's tag filter" },
  'viewDelete.id': { name: 'the saved view id' },
  offset: { name: 'the page offset' },
  limit: { name: 'the page size' },
  id: { name: 'the id' },
  'instanceDetail.id': { name: 'the instance id' },
  'similar.id': { name: 'the instance id' },
  'nearestReal.id': { name: 'the instance id' },
  'auditVerdict.id': { name: 'the instance id' },
  'updateClass.id': { name: 'the class id' },
  k: { name: 'the number of neighbours' },
  sameLabel: { name: 'whether to keep to the same label' },
  ids: { name: 'the instance ids' },
  action: { name: 'the action' },
  perClass: { name: 'the sample size per class' },
  verdict: { name: 'the verdict' },
  'exportDataset.name': { name: 'the export folder name' },
  name: { name: 'the model name' },
  labelIds: { name: 'the classes to export' },
  minContribution: { name: 'the minimum contribution' },
  formats: { name: 'the export formats' },
  as: { name: 'how to stop' },
  promptTemplates: { name: 'the prompt templates' },
  negativePrompt: { name: 'the negative prompt' },
  disambiguation: { name: 'the disambiguation' },
  budgetWeight: { name: 'the budget weight' },
  guidanceScale: { name: "the class's guidance scale" },
  'remedyApply.count': { name: 'the images per batch' },
  endpoint: { name: 'the prompt endpoint' },
  'endpoint.url': { name: "the endpoint's URL" },
  'endpoint.model': { name: "the endpoint's model" },
  count: { name: 'the number of prompts to ask for' },
  runId: { name: 'the run id' },
  folder: { name: 'the model folder' },
  'labelIssueInstances.labelId': { name: 'the pseudo-label id' },
  suggestedId: { name: 'the suggested label id' },
  'classAdd.name': { name: 'the class name' },
  'classRename.name': { name: 'the new class name' },
  'classRename.id': { name: 'the class id' },
  'importStart.kind': { name: 'what to import', hint: 'choose real or synthetic images' },
  'importStart.folder': {
    name: 'the image folder',
    hint: 'type the full path of the folder, e.g. /data/fashion/train',
  },
  split: { name: 'the split' },
  'promptSuggestions.generator': { name: 'the generator the prompts are for' },
};

/** Issues beyond this many are counted, not spelled out. */
const MAX_SENTENCES = 3;

type Issue = z.core.$ZodIssue;

/**
 * A rejected request as sentences people can act on: each names the field in words, says what it
 * must be, what it was, and (where the table has one) what to give instead, e.g. "The acceptance
 * rule's share to keep must be at most 1 (got 70): give a share such as 0.7."
 */
export function describeRequestIssues(method: Method, issues: readonly Issue[], raw: unknown): string {
  const chosen = issues.flatMap((issue) => resolveUnions(issue, []));
  const sentences = chosen.slice(0, MAX_SENTENCES).map((issue) => sentence(method, issue, raw));
  const more = chosen.length - MAX_SENTENCES;
  if (more > 0) sentences.push(`(And ${more} more problem${more === 1 ? '' : 's'}.)`);
  return sentences.join(' ');
}

/**
 * A union's issues are one list per alternative (runStart: new settings or `{resume: true}`):
 * the alternative the request came closest to is the one its author meant. Closeness: fewest
 * issues, each unexpected key counting as one. Paths inside an alternative are relative to the union.
 */
function resolveUnions(issue: Issue, prefix: readonly PropertyKey[]): Issue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ ...issue, path }];
  const cost = (alternative: readonly Issue[]) =>
    alternative.reduce((sum, i) => sum + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
  const best = issue.errors.reduce((a, b) => (cost(b) < cost(a) ? b : a));
  return best.flatMap((inner) => resolveUnions(inner, path));
}

function sentence(method: Method, issue: Issue, raw: unknown): string {
  const field = fieldOf(method, issue.path);
  const got = valueAt(raw, issue.path);
  const name = capitalise(field.name);
  const end = (text: string) => `${text}${field.hint ? `: ${field.hint}` : ''}.`;
  switch (issue.code) {
    case 'invalid_type':
      if (got === undefined) return end(`${name} must be given, as ${typeName(issue.expected)}`);
      return end(`${name} must be ${typeName(issue.expected)} (got ${shown(got)})`);
    case 'invalid_value':
      if (got === undefined) return end(`${name} must be given, as ${oneOf(issue.values)}`);
      return end(`${name} must be ${oneOf(issue.values)} (got ${shown(got)})`);
    case 'invalid_union': // an alternative that matched no discriminator
      return end(
        `${name} must be ${oneOf(('options' in issue ? issue.options : []) as unknown[])} (got ${shown(got)})`,
      );
    case 'too_big':
      return end(
        `${name} ${bound(issue.origin, issue.maximum, issue.inclusive, 'at most', 'less than')} (got ${size(issue.origin, got)})`,
      );
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return end(`${name} must not be empty`);
      return end(
        `${name} ${bound(issue.origin, issue.minimum, issue.inclusive, 'at least', 'more than')} (got ${size(issue.origin, got)})`,
      );
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      const where = issue.path.length === 0 ? `The ${method} request` : name;
      return `${where} does not take ${keys}: remove ${issue.keys.length === 1 ? 'it' : 'them'}.`;
    }
    case 'not_multiple_of':
      return end(`${name} must be a multiple of ${String(issue.divisor)} (got ${shown(got)})`);
    default:
      // Formats and refinements: the schema's own message says what it must be ("must be an absolute path").
      return end(
        /^must /.test(issue.message)
          ? `${name} ${issue.message} (got ${shown(got)})`
          : `${name} is not valid: ${issue.message} (got ${shown(got)})`,
      );
  }
}

function fieldOf(method: Method, path: readonly PropertyKey[]): Field {
  if (path.length === 0) return { name: `the ${method} request` };
  const key = path.filter((p) => typeof p !== 'number').join('.');
  const field = FIELDS[`${method}.${key}`] ?? FIELDS[key] ?? { name: `the field \`${key}\`` };
  const index = path.findLast((p) => typeof p === 'number');
  return index === undefined ? field : { ...field, name: `${field.name} (item ${index + 1})` };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = raw ?? {};
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object ({…})',
};
const typeName = (expected: string) => TYPE_NAMES[expected] ?? `of type ${expected}`;

/** A received value as a short, safe quotation: never the whole of a huge or deeply nested one. */
function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  return String(value);
}

/** A length for strings and lists (their bounds are on length), else the value. */
function size(origin: string, value: unknown): string {
  if (origin === 'string' && typeof value === 'string') return `${value.length} characters`;
  if ((origin === 'array' || origin === 'set') && Array.isArray(value)) return `${value.length} items`;
  return shown(value);
}

/** What a bound asks for: "must be at most 1", "must be at most 500 characters long", "must have at least 1 item". */
function bound(origin: string, limit: unknown, inclusive: boolean | undefined, within: string, beyond: string): string {
  const relation = `${inclusive === false ? beyond : within} ${String(limit)}`;
  if (origin === 'string') return `must be ${relation} characters long`;
  if (origin === 'array' || origin === 'set') return `must have ${relation} item${limit === 1 ? '' : 's'}`;
  return `must be ${relation}`;
}

function oneOf(values: readonly unknown[]): string {
  const names = values.map((v) => JSON.stringify(v));
  return names.length === 1 ? names[0]! : `one of ${names.join(', ')}`;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
