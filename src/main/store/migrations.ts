/**
 * Versioned schema migrations. The schema version lives in SQLite's `user_version`; migration N
 * upgrades a database at version N-1 to version N. Never edit a migration that has shipped: add one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
  /**
   * The migration rebuilds a table others reference (SQLite cannot change a CHECK in place), so it
   * runs with foreign keys off (else dropping the old table would cascade) and is checked after.
   */
  readonly rebuildsTables?: true;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'project settings, classes, images, real samples, runs, instances, scores, audit trail, exports',
    sql: /* sql */ `
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL -- JSON
      ) STRICT;

      CREATE TABLE classes (
        id               INTEGER PRIMARY KEY,
        name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
        prompt_templates TEXT NOT NULL DEFAULT '["a photo of a {label}"]', -- JSON array of strings
        negative_prompt  TEXT NOT NULL DEFAULT '',
        disambiguation   TEXT NOT NULL DEFAULT '',
        budget_weight    REAL NOT NULL DEFAULT 1 CHECK (budget_weight >= 0),
        created_at       TEXT NOT NULL
      ) STRICT;

      -- Content-addressed image files: images/<hash[0:2]>/<hash>.png under the project directory.
      CREATE TABLE images (
        hash       TEXT PRIMARY KEY, -- sha256 of the stored PNG bytes
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        channels   INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE real_samples (
        id          INTEGER PRIMARY KEY,
        image_hash  TEXT NOT NULL UNIQUE REFERENCES images (hash),
        class_id    INTEGER NOT NULL REFERENCES classes (id),
        split       TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        source_path TEXT,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX real_samples_split_class ON real_samples (split, class_id);

      -- A run is one job: a generative active-learning loop, a scoring pass, a generation, a training.
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('loop', 'score', 'generate', 'train', 'import')),
        params      TEXT NOT NULL DEFAULT '{}', -- JSON
        model_ids   TEXT NOT NULL DEFAULT '{}', -- JSON: generator, encoder, head
        status      TEXT NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'paused', 'done', 'failed', 'cancelled')),
        error       TEXT,
        started_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE rounds (
        id          INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        round_index INTEGER NOT NULL CHECK (round_index >= 0),
        params      TEXT NOT NULL DEFAULT '{}', -- JSON: per-class budget, acquisition, epsilon
        stage       TEXT NOT NULL DEFAULT 'planned',
        timings     TEXT NOT NULL DEFAULT '{}', -- JSON: seconds per stage
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        UNIQUE (run_id, round_index)
      ) STRICT;

      -- Per-round metrics of a run (validation accuracy, loss, accepted counts...).
      CREATE TABLE metrics (
        run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        round_index INTEGER NOT NULL,
        name        TEXT NOT NULL,
        value       REAL NOT NULL,
        PRIMARY KEY (run_id, round_index, name)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE instances (
        id              INTEGER PRIMARY KEY,
        image_hash      TEXT NOT NULL UNIQUE REFERENCES images (hash),
        class_id        INTEGER NOT NULL REFERENCES classes (id), -- the class it was made for
        label_id        INTEGER NOT NULL REFERENCES classes (id), -- its pseudo-label (a relabel changes it)
        source          TEXT NOT NULL CHECK (source IN ('generated', 'imported')),
        source_path     TEXT,
        prompt          TEXT NOT NULL DEFAULT '',
        negative_prompt TEXT NOT NULL DEFAULT '',
        seed            INTEGER,
        epsilon         REAL NOT NULL DEFAULT 0 CHECK (epsilon >= 0), -- conditioning perturbation radius
        perturbation    TEXT, -- JSON: how the conditioning was perturbed (direction seed or vector)
        generator_id    TEXT NOT NULL DEFAULT '',
        gen_params      TEXT NOT NULL DEFAULT '{}', -- JSON: guidance, steps, scheduler
        run_id          INTEGER REFERENCES runs (id),
        round_index     INTEGER,
        status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
        override        TEXT CHECK (override IN ('accepted', 'rejected')), -- the curator's word wins
        contribution    REAL, -- latest contribution score; NULL until scored
        created_at      TEXT NOT NULL
      ) STRICT;
      -- "Best/worst N of class X by contribution" is a range scan of this index.
      CREATE INDEX instances_label_contribution ON instances (label_id, contribution);
      CREATE INDEX instances_status ON instances (status, label_id);
      CREATE INDEX instances_run_round ON instances (run_id, round_index);

      -- Every score ever computed, per instance, round and kind.
      CREATE TABLE scores (
        id          INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        run_id      INTEGER REFERENCES runs (id),
        round_index INTEGER,
        kind        TEXT NOT NULL,
        value       REAL NOT NULL,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX scores_instance_kind ON scores (instance_id, kind, id);
      CREATE INDEX scores_run_round_kind ON scores (run_id, round_index, kind);

      -- The curator's audit trail. Undo marks an action undone and restores its "before" state.
      CREATE TABLE curator_actions (
        id          INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        action      TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'relabel', 'clear')),
        before      TEXT NOT NULL, -- JSON: { override, labelId }
        after       TEXT NOT NULL, -- JSON: { override, labelId }
        batch       TEXT, -- actions taken together (multi-select) share a batch id and undo together
        at          TEXT NOT NULL,
        undone_at   TEXT
      ) STRICT;
      CREATE INDEX curator_actions_instance ON curator_actions (instance_id, id);

      CREATE TABLE audit_verdicts (
        id          INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        verdict     TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect')),
        at          TEXT NOT NULL,
        undone_at   TEXT
      ) STRICT;
      CREATE INDEX audit_verdicts_instance ON audit_verdicts (instance_id, id);

      CREATE TABLE exports (
        id          INTEGER PRIMARY KEY,
        destination TEXT NOT NULL,
        formats     TEXT NOT NULL, -- JSON array
        filter      TEXT NOT NULL, -- JSON
        counts      TEXT NOT NULL, -- JSON
        at          TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'cached image features per encoder; per-round learner checkpoints for resumable runs',
    sql: /* sql */ `
      -- Feature vectors (float32, little-endian) of any stored image under a given encoder.
      CREATE TABLE features (
        image_hash TEXT NOT NULL REFERENCES images (hash),
        encoder_id TEXT NOT NULL,
        vector     BLOB NOT NULL,
        PRIMARY KEY (image_hash, encoder_id)
      ) STRICT, WITHOUT ROWID;

      -- The learner's state at the end of a round (round_index -1: before the first round), so a
      -- killed run resumes exactly where its last finished round left it.
      CREATE TABLE checkpoints (
        run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        round_index INTEGER NOT NULL,
        head        BLOB NOT NULL, -- float32 weights, classes × (dim + 1)
        gradient    BLOB,          -- float32 real-data gradient cache, same shape
        state       TEXT NOT NULL DEFAULT '{}', -- JSON: score window for percentile acceptance, ...
        PRIMARY KEY (run_id, round_index)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: 'each audit verdict records the pseudo-label it judged',
    // A verdict judges one label ("is this a shirt?"); a later relabel must not move it to the new
    // class. Verdicts made before this version did not record their label, so it is rebuilt from
    // the curator's audit trail: the label after the latest relabel/accept/reject/clear that was in
    // force when the verdict was given (made before it, not undone by then), else the label before
    // the instance's first curator action, else its current label. Timestamps are ISO strings to
    // the millisecond, so an action in the same millisecond as the verdict counts as before it.
    sql: /* sql */ `
      CREATE TABLE audit_verdicts_v2 AS SELECT id, instance_id, verdict, at, undone_at FROM audit_verdicts;
      DROP TABLE audit_verdicts;

      CREATE TABLE audit_verdicts (
        id          INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        label_id    INTEGER NOT NULL REFERENCES classes (id), -- the pseudo-label the verdict judged
        verdict     TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect')),
        at          TEXT NOT NULL,
        undone_at   TEXT
      ) STRICT;
      CREATE INDEX audit_verdicts_instance ON audit_verdicts (instance_id, id);

      INSERT INTO audit_verdicts (id, instance_id, label_id, verdict, at, undone_at)
      SELECT v.id, v.instance_id,
        coalesce(
          (SELECT json_extract(a.after, '$.labelId') FROM curator_actions a
            WHERE a.instance_id = v.instance_id AND a.at <= v.at AND (a.undone_at IS NULL OR a.undone_at > v.at)
            ORDER BY a.id DESC LIMIT 1),
          (SELECT json_extract(a.before, '$.labelId') FROM curator_actions a
            WHERE a.instance_id = v.instance_id ORDER BY a.id LIMIT 1),
          (SELECT i.label_id FROM instances i WHERE i.id = v.instance_id)),
        v.verdict, v.at, v.undone_at
      FROM audit_verdicts_v2 v;
      DROP TABLE audit_verdicts_v2;
    `,
  },
  {
    version: 4,
    description: "one worker per run (run leases); the run status 'interrupted' for runs whose process died",
    rebuildsTables: true,
    sql: /* sql */ `
      -- The runs table again, with 'interrupted' (its process died while it was running) as a status.
      CREATE TABLE runs_v4 (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('loop', 'score', 'generate', 'train', 'import')),
        params      TEXT NOT NULL DEFAULT '{}', -- JSON
        model_ids   TEXT NOT NULL DEFAULT '{}', -- JSON: generator, encoder, head
        status      TEXT NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'paused', 'done', 'failed', 'cancelled', 'interrupted')),
        error       TEXT,
        started_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      INSERT INTO runs_v4 SELECT id, kind, params, model_ids, status, error, started_at, finished_at FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_v4 RENAME TO runs;

      -- The one process working a run: taken atomically, renewed by its heartbeat, deleted when the
      -- run stops. A lease whose process is gone (dead pid on this host, or a stale heartbeat) is free.
      CREATE TABLE run_leases (
        run_id       INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        token        TEXT NOT NULL, -- which acquisition: a taken-over holder finds its token gone
        acquired_at  TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    description:
      "every instance's latest score of each kind beside its pseudo-label, indexed for the review's orderings",
    // The review's strips and grid order a class by any score kind. Reading the latest value of a
    // kind out of the history for each instance of the class and sorting took 0.2 s per class of
    // 10,000 and 1.7 s for one of 100,000 (bench/store-queries.ts); with this table "best/worst N
    // of class X by kind K" is a range scan of one index, for every kind. The store writes it with
    // each score (recordScores) and each change of pseudo-label (curation.ts); history rows are
    // never deleted but with their instance, and so are these.
    sql: /* sql */ `
      CREATE TABLE latest_scores (
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        kind        TEXT NOT NULL,
        label_id    INTEGER NOT NULL REFERENCES classes (id), -- the instance's pseudo-label, as on its row
        value       REAL NOT NULL, -- its newest score of the kind in the history
        PRIMARY KEY (instance_id, kind)
      ) STRICT, WITHOUT ROWID;
      -- Holds (kind, label_id, value, instance_id): a class's instances by one kind, in order.
      CREATE INDEX latest_scores_rank ON latest_scores (kind, label_id, value);

      -- SQLite takes the bare column value from the row that holds max(id): the newest score.
      INSERT INTO latest_scores (instance_id, kind, label_id, value)
      SELECT l.instance_id, l.kind, i.label_id, l.value
      FROM (SELECT instance_id, kind, value, max(id) FROM scores GROUP BY instance_id, kind) l
      JOIN instances i ON i.id = l.instance_id;

      -- Nothing is ordered by the instance row's contribution any more (it stays, for exports and
      -- the API); instances are still looked up by pseudo-label.
      DROP INDEX instances_label_contribution;
      CREATE INDEX instances_label ON instances (label_id);
    `,
  },
  {
    version: 6,
    description: "each scored instance's suggested label: the head's most probable class, with its probability",
    // The head that scores an instance never trained on it (scoring.ts), so its most probable class
    // is an out-of-sample second opinion on the pseudo-label. Only the latest is kept: the label
    // issues view compares it with the current pseudo-label; the score history keeps the rest.
    sql: /* sql */ `
      CREATE TABLE label_suggestions (
        instance_id INTEGER PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
        label_id    INTEGER NOT NULL REFERENCES classes (id), -- the head's most probable class
        probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
        run_id      INTEGER REFERENCES runs (id),
        round_index INTEGER,
        created_at  TEXT NOT NULL
      ) STRICT;
      -- One cell of the label issues matrix, most probable first, is a range scan of this index.
      CREATE INDEX label_suggestions_label ON label_suggestions (label_id, probability);
    `,
  },
  {
    version: 7,
    description: "curators' tags and a note per instance, tagging in the undo trail, saved review views",
    // Tags are free text compared without case ("Blurry" is "blurry"; the first spelling stays). The
    // curator trail gains 'tag' and 'untag' so that tagging undoes and redoes like a decision: their
    // before/after hold the instance's tag set (and its label, which scopes the review's undo).
    // Length limits repeat TAG_MAX_LENGTH and NOTE_MAX_LENGTH (src/shared/api.ts) as a backstop.
    sql: /* sql */ `
      CREATE TABLE instance_tags (
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        tag         TEXT NOT NULL COLLATE NOCASE CHECK (length(tag) BETWEEN 1 AND 64 AND tag = trim(tag)),
        PRIMARY KEY (instance_id, tag)
      ) STRICT, WITHOUT ROWID;
      -- The review's tag filter and the project's tag counts read this.
      CREATE INDEX instance_tags_tag ON instance_tags (tag, instance_id);

      CREATE TABLE instance_notes (
        instance_id INTEGER PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
        text        TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE curator_actions_v7 (
        id          INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        action      TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'relabel', 'clear', 'tag', 'untag')),
        before      TEXT NOT NULL, -- JSON: { override, labelId }, or for tag/untag { labelId, tags }
        after       TEXT NOT NULL, -- JSON: the same fields after the action
        batch       TEXT, -- actions taken together (multi-select) share a batch id and undo together
        at          TEXT NOT NULL,
        undone_at   TEXT
      ) STRICT;
      INSERT INTO curator_actions_v7 SELECT id, instance_id, action, before, after, batch, at, undone_at FROM curator_actions;
      DROP TABLE curator_actions;
      ALTER TABLE curator_actions_v7 RENAME TO curator_actions;
      CREATE INDEX curator_actions_instance ON curator_actions (instance_id, id);

      -- A named set of review filters with its sort and score kind (JSON, as the API's savedViewSave takes it).
      CREATE TABLE saved_views (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        view       TEXT NOT NULL, -- JSON: { order, kind, status?, minScore?, maxScore?, roundIndex?, promptContains?, tag? }
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 8,
    description: "a class's own guidance scale (a remedy for a confused class)",
    // NULL: the generator's default (or the run's), which is what every class had before.
    sql: /* sql */ `
      ALTER TABLE classes ADD COLUMN guidance_scale REAL CHECK (guidance_scale IS NULL OR guidance_scale >= 1);
    `,
  },
  {
    version: 9,
    description: 'imports staged chunk by chunk, invisible until they commit',
    // An import of a million images cannot hold its rows in memory until one transaction writes
    // them, nor commit chunk by chunk where the review and exports would see half of it. Each chunk
    // is staged here (its images already in the store), and one transaction at the end moves the
    // staged rows into instances or real_samples and deletes them (pipeline/chunkedImport.ts). A
    // killed import leaves only staged rows, which no screen or export reads; the next import (or
    // opening the project) drops them once their process is gone (pid dead here, or no heartbeat).
    sql: /* sql */ `
      CREATE TABLE pending_imports (
        id           INTEGER PRIMARY KEY,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE import_staging (
        import_id  INTEGER NOT NULL REFERENCES pending_imports (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL, -- the file's place in the import's order
        image_hash TEXT NOT NULL,
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        channels   INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        path       TEXT NOT NULL, -- the file it was read from
        row        TEXT NOT NULL, -- JSON: what the importer writes for it on commit
        PRIMARY KEY (import_id, seq),
        UNIQUE (import_id, image_hash)
      ) STRICT;
      -- A synthetic import's metadata.jsonl, one row per file it names, read before the images:
      -- a million lines held in memory would be GBs.
      CREATE TABLE import_metadata (
        import_id INTEGER NOT NULL REFERENCES pending_imports (id) ON DELETE CASCADE,
        file_name TEXT NOT NULL, -- as the folder walk names files
        line_at   TEXT NOT NULL, -- path:line, for reports
        data      TEXT, -- JSON: the good line; NULL when a bad line refuses the file
        matched   INTEGER NOT NULL DEFAULT 0, -- 1 once the walk found the file
        PRIMARY KEY (import_id, file_name)
      ) STRICT; -- with a rowid: the lines' order
    `,
  },
  {
    version: 10,
    description: "a pending import's commit is marked, so other writers wait for it",
    // The commit moves the whole import in one transaction, holding the write lock for as long as
    // that takes (most of a minute at 1,000,000 images), past the 30 s another writer waits by
    // default. A writer that finds the lock held by a marked commit of a live process waits on
    // (store/database.ts, writeTransaction) instead of failing.
    sql: /* sql */ `
      ALTER TABLE pending_imports ADD COLUMN committing_since TEXT;
    `,
  },
  {
    version: 11,
    description: "instances by pseudo-label with their decision, so a project's counts read one index",
    // The project's summary (every screen's header, the Project screen) counts each class's
    // instances by decision; with only (label_id) indexed that read every instance's row: 6.0 s at
    // 1,000,000. With the decision in the index the count reads the index alone. It replaces
    // (label_id), whose lookups it serves as well.
    sql: /* sql */ `
      DROP INDEX instances_label;
      CREATE INDEX instances_label_decision ON instances (label_id, status, override);
    `,
  },
];

export const latestSchemaVersion: number = migrations.at(-1)?.version ?? 0;
