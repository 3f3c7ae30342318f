import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The charter's rule "SQL lives only in src/main/store/", checked on the sources so that a query written
// elsewhere (a pipeline step reaching into project.db) is caught when it is added, not in review.
const MAIN = join(import.meta.dirname, '../../src/main');

function sourcesOutsideStore(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return relative(MAIN, path) === 'store' ? [] : sourcesOutsideStore(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// A statement handed to SQLite, or the text of one: `.prepare(`, `.exec(` or `.pragma(` on a database,
// or a string that starts like a SQL statement.
const SQL = [
  /\.(prepare|exec|pragma)\s*(<[^>]*>)?\s*\(/,
  /[`'"]\s*(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA|BEGIN|WITH)\b/,
];

describe('SQL', () => {
  it('is written only in src/main/store/', () => {
    const offenders = sourcesOutsideStore(MAIN).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          SQL.some((re) => re.test(line)) ? [`${relative(MAIN, file)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(offenders).toEqual([]);
  });
});
