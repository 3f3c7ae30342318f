// A separate process that writes to a project, for the concurrency tests (test/store/writeLock.test.ts).
//   node projectWriter.ts hold <dir> <held-file> <attempt-file>
//     takes the write lock (BEGIN IMMEDIATE), writes, creates <held-file>, waits until <attempt-file>
//     exists (the other process is about to write), holds on for HOLD_AFTER_ATTEMPT_MS, commits and
//     prints {"committedAt": ms}.
//   node projectWriter.ts hold-import-commit <dir> <held-file> <attempt-file>
//     the same, marked first (in its own transaction) as an import's commit, as a long import marks it.
//   node projectWriter.ts <curate|undo|import-real|import-synthetic> <dir> <attempt-file> [folder]
//     creates <attempt-file> right before the write and prints {"ok": true, "finishedAt": ms} or
//     {"ok": false, "error": message}. $WRITER_BUSY_TIMEOUT_MS: the connection's busy timeout.
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { curate, undoLastAction } from '../../src/main/store/curation.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { openProject } from '../../src/main/store/project.ts';

/** Long enough that the other process's write surely starts while the lock is held. */
const HOLD_AFTER_ATTEMPT_MS = 1500;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const [op, dir, ...rest] = process.argv.slice(2) as [string, string, ...string[]];

if (op === 'hold' || op === 'hold-import-commit') {
  const [heldFile, attemptFile] = rest as [string, string];
  const db = new Database(`${dir}/winnow.db`);
  db.pragma('busy_timeout = 5000');
  if (op === 'hold-import-commit') {
    const at = new Date().toISOString();
    db.prepare(
      `INSERT INTO pending_imports (pid, host, started_at, heartbeat_at, committing_since) VALUES (?, ?, ?, ?, ?)`,
    ).run(process.pid, hostname(), at, at, at);
  }
  db.exec('BEGIN IMMEDIATE');
  db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('holder', '1')").run();
  writeFileSync(heldFile, '');
  // A writer that died before its attempt would leave this process waiting for ever: give up.
  const deadline = Date.now() + 60_000;
  while (!existsSync(attemptFile)) {
    if (Date.now() > deadline) throw new Error(`no ${attemptFile} within 60 s: the writer never tried`);
    sleep(10);
  }
  sleep(HOLD_AFTER_ATTEMPT_MS);
  db.exec('COMMIT');
  console.log(JSON.stringify({ committedAt: Date.now() }));
  db.close();
} else {
  const [attemptFile, folder] = rest as [string, string | undefined];
  const project = openProject(dir);
  if (process.env.WRITER_BUSY_TIMEOUT_MS) project.db.pragma(`busy_timeout = ${process.env.WRITER_BUSY_TIMEOUT_MS}`);
  const ids = listInstances(project.db).map((i) => i.id);
  try {
    writeFileSync(attemptFile, '');
    if (op === 'curate') curate(project.db, { instanceIds: ids, action: 'reject' });
    else if (op === 'undo') undoLastAction(project.db);
    else if (op === 'import-real') await importReal(project, folder!, 'train');
    else if (op === 'import-synthetic') await importSynthetic(project, folder!);
    else throw new Error(`unknown operation ${op}`);
    console.log(JSON.stringify({ ok: true, finishedAt: Date.now() }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: (error as Error).message }));
  } finally {
    project.close();
  }
}
