import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { type Db, migrate, openDatabase, schemaVersion } from '../../src/main/store/database.ts';
import { latestSchemaVersion, migrations } from '../../src/main/store/migrations.ts';
import { initProject, openProject } from '../../src/main/store/project.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { tempDir } from '../helpers/fixtures.ts';

function schemaOf(db: Db): string[] {
  return db
    .prepare<[], { sql: string }>(
      "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((r) => r.sql.replace(/\s+/g, ' '));
}

function freshDb(): Db {
  return openDatabase(join(tempDir(), 'winnow.db'), { create: true });
}

describe('migrations', () => {
  it('are numbered 1, 2, 3… with no gaps', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('bring an empty database to the latest version with WAL and foreign keys on', () => {
    const db = freshDb();
    expect(schemaVersion(db)).toBe(0);
    migrate(db);
    expect(schemaVersion(db)).toBe(latestSchemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    for (const table of [
      'settings',
      'classes',
      'images',
      'real_samples',
      'runs',
      'rounds',
      'metrics',
      'instances',
      'scores',
      'curator_actions',
      'audit_verdicts',
      'exports',
      'features',
      'checkpoints',
    ]) {
      expect(tables).toContain(table);
    }
    db.close();
  });

  it('from each earlier version reach the same schema as from empty', () => {
    const reference = freshDb();
    migrate(reference);
    for (let version = 0; version < latestSchemaVersion; version++) {
      const db = freshDb();
      migrate(db, version);
      expect(schemaVersion(db)).toBe(version);
      migrate(db);
      expect(schemaOf(db)).toEqual(schemaOf(reference));
      db.close();
    }
    reference.close();
  });

  it('version 3 gives each existing verdict the label it judged, rebuilt from the curator trail', () => {
    const db = freshDb();
    migrate(db, 2);
    const t = (s: number) => `2024-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
    const insert = (sql: string, ...values: (string | number | null)[]) => db.prepare(sql).run(...values);
    for (const [id, name] of [
      [1, 'shirt'],
      [2, 't-shirt'],
      [3, 'coat'],
    ] as const)
      insert('INSERT INTO classes (id, name, created_at) VALUES (?, ?, ?)', id, name, t(0));
    // Instances a-d, with the label each has now.
    for (const [id, label] of [
      [1, 3],
      [2, 2],
      [3, 1],
      [4, 3],
    ] as const) {
      const hash = String(id).repeat(64);
      insert(
        'INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 1, 1, 1, 1, ?)',
        hash,
        t(0),
      );
      insert(
        "INSERT INTO instances (id, image_hash, class_id, label_id, source, created_at) VALUES (?, ?, 1, ?, 'generated', ?)",
        id,
        hash,
        label,
        t(0),
      );
    }
    const state = (labelId: number) => JSON.stringify({ override: null, labelId });
    const action = (instance: number, from: number, to: number, at: number, undoneAt: number | null = null) =>
      insert(
        "INSERT INTO curator_actions (instance_id, action, before, after, batch, at, undone_at) VALUES (?, 'relabel', ?, ?, 'b', ?, ?)",
        instance,
        state(from),
        state(to),
        t(at),
        undoneAt === null ? null : t(undoneAt),
      );
    const verdict = (id: number, instance: number, at: number) =>
      insert(
        "INSERT INTO audit_verdicts (id, instance_id, verdict, at) VALUES (?, ?, 'incorrect', ?)",
        id,
        instance,
        t(at),
      );
    // a: shirt → t-shirt, judged, → coat, judged again.
    action(1, 1, 2, 1);
    verdict(1, 1, 2);
    action(1, 2, 3, 3);
    verdict(2, 1, 4);
    // b: judged as a shirt, relabelled a t-shirt afterwards.
    verdict(3, 2, 1);
    action(2, 1, 2, 2);
    // c: relabelled a t-shirt, judged, the relabel undone afterwards (a shirt again now).
    action(3, 1, 2, 1, 5);
    verdict(4, 3, 3);
    // d: never curated.
    verdict(5, 4, 1);
    migrate(db);
    expect(db.prepare('SELECT id, label_id AS labelId FROM audit_verdicts ORDER BY id').all()).toEqual([
      { id: 1, labelId: 2 },
      { id: 2, labelId: 3 },
      { id: 3, labelId: 1 },
      { id: 4, labelId: 2 },
      { id: 5, labelId: 3 },
    ]);
    db.close();
  });

  it('version 5 ranks an old project by every kind: the newest score of each, in the class each is labelled as', async () => {
    const dir = join(tempDir(), 'old');
    mkdirSync(dir);
    const db = openDatabase(join(dir, 'winnow.db'), { create: true });
    migrate(db, 4);
    const t = '2024-01-01T00:00:00.000Z';
    const insert = (sql: string, ...values: (string | number | null)[]) => db.prepare(sql).run(...values);
    insert('INSERT INTO classes (id, name, created_at) VALUES (1, ?, ?), (2, ?, ?)', 'shirt', t, 'coat', t);
    // Instances 1-4 made as shirts; 4 was relabelled a coat before the upgrade.
    for (const id of [1, 2, 3, 4]) {
      const hash = String(id).repeat(64);
      insert("INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 1, 1, 1, 1, '')", hash);
      insert(
        "INSERT INTO instances (id, image_hash, class_id, label_id, source, created_at) VALUES (?, ?, 1, ?, 'generated', ?)",
        id,
        hash,
        id === 4 ? 2 : 1,
        t,
      );
    }
    // The history as version 4 wrote it, in this order: each kind's newest row is the one that counts.
    const history: [number, string, number][] = [
      [1, 'quality', -1],
      [2, 'quality', -2],
      [3, 'quality', -3],
      [4, 'quality', -0.5],
      [1, 'contribution', 0.1],
      [2, 'contribution', 0.2],
      [3, 'quality', -0.1], // 3 re-scored: now the best shirt
      [1, 'quality', -4], // 1 re-scored: now the worst
    ];
    for (const [instance, kind, value] of history)
      insert('INSERT INTO scores (instance_id, kind, value, created_at) VALUES (?, ?, ?, ?)', instance, kind, value, t);
    db.close();

    const project = openProject(dir);
    expect(schemaVersion(project.db)).toBe(latestSchemaVersion);
    const { api } = createEngine(project);
    const ranked = (items: readonly { id: number; score: number | null }[]) => items.map((i) => [i.id, i.score]);
    const shirts = await api.classExtremes({ classId: 1, n: 10, kind: 'quality' });
    expect(ranked(shirts.best)).toEqual([
      [3, -0.1],
      [2, -2],
      [1, -4],
    ]);
    expect(ranked(shirts.worst)).toEqual([
      [1, -4],
      [2, -2],
      [3, -0.1],
    ]);
    expect(ranked((await api.classExtremes({ classId: 2, n: 10 })).best)).toEqual([[4, -0.5]]);
    const byContribution = await api.classPage({
      labelId: 1,
      order: 'best',
      kind: 'contribution',
      offset: 0,
      limit: 10,
    });
    expect(ranked(byContribution.items)).toEqual([
      [2, 0.2],
      [1, 0.1],
      [3, null],
    ]);
    // What the upgrade wrote is what recording the history again would keep.
    expect(project.db.prepare('SELECT count(*) AS n FROM latest_scores').get()).toEqual({ n: 6 });
    project.close();
  });

  it('version 7 keeps the curator trail, so an accept made before it still undoes, and tagging joins it', async () => {
    const dir = join(tempDir(), 'v6');
    mkdirSync(dir);
    const db = openDatabase(join(dir, 'winnow.db'), { create: true });
    migrate(db, 6);
    const t = '2024-01-01T00:00:00.000Z';
    db.prepare('INSERT INTO classes (id, name, created_at) VALUES (1, ?, ?)').run('shirt', t);
    db.prepare("INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 1, 1, 1, 1, '')").run(
      'a'.repeat(64),
    );
    db.prepare(
      "INSERT INTO instances (id, image_hash, class_id, label_id, source, override, created_at) VALUES (1, ?, 1, 1, 'generated', 'accepted', ?)",
    ).run('a'.repeat(64), t);
    db.prepare(
      "INSERT INTO curator_actions (instance_id, action, before, after, batch, at) VALUES (1, 'accept', ?, ?, 'b1', ?)",
    ).run(JSON.stringify({ override: null, labelId: 1 }), JSON.stringify({ override: 'accepted', labelId: 1 }), t);
    db.close();

    const project = openProject(dir);
    const { api } = createEngine(project);
    await api.tagAdd({ ids: [1], tags: ['old'] });
    expect((await api.classUndo({ classId: 1 })).undone).toMatchObject({ action: 'tag', tags: ['old'] });
    expect((await api.classUndo({ classId: 1 })).undone).toMatchObject({ action: 'accept', batch: 'b1' });
    expect(await api.instanceDetail({ id: 1 })).toMatchObject({ override: null, tags: [] });
    project.close();
  });

  it('leave the database at the last good version when a migration fails', () => {
    const db = freshDb();
    const broken = [
      ...migrations,
      {
        version: latestSchemaVersion + 1,
        description: 'broken',
        sql: 'CREATE TABLE ok (x); CREATE TABLE exports (x);',
      },
    ];
    migrate(db);
    // A Winnow whose latest migration fails: nothing of it may stay behind.
    expect(() => migrate(db, latestSchemaVersion + 1, broken)).toThrow(/already exists/);
    expect(schemaVersion(db)).toBe(latestSchemaVersion);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'ok'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('wait for another process upgrading the same project, and skip what it applied', async () => {
    const file = join(tempDir(), 'winnow.db');
    const db = openDatabase(file, { create: true });
    migrate(db, latestSchemaVersion - 1); // a project made by the Winnow before
    const last = migrations.at(-1)!;
    // Another Winnow opening it at the same moment: it takes the lock first and applies the last migration.
    const other = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
         db.exec(${JSON.stringify(last.sql)});
         db.pragma('user_version = ${last.version}');
         db.exec('COMMIT');`,
      ],
      { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((locked) => other.stdout.once('data', locked));
    migrate(db);
    await new Promise((done) => other.on('exit', done));
    expect(schemaVersion(db)).toBe(latestSchemaVersion);
    const fromEmpty = freshDb();
    migrate(fromEmpty);
    expect(schemaOf(db)).toEqual(schemaOf(fromEmpty));
    db.close();
    fromEmpty.close();
  });

  it('refuse a database made by a newer Winnow, naming the versions and the fix', () => {
    const dir = tempDir();
    initProject(join(dir, 'p')).close();
    const db = openDatabase(join(dir, 'p', 'winnow.db'), { create: false });
    db.pragma(`user_version = ${latestSchemaVersion + 1}`);
    db.close();
    let error: unknown;
    try {
      openProject(join(dir, 'p'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WinnowError);
    expect((error as WinnowError).message).toMatch(
      new RegExp(`schema version ${latestSchemaVersion + 1}.*up to ${latestSchemaVersion}`),
    );
    expect((error as WinnowError).fix).toMatch(/newer Winnow/);
  });
});
