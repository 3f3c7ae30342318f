// Times "best/worst N of class X by contribution" on a project of 200,000 scored instances.
// Run: node bench/store-queries.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addClass } from '../src/main/store/classes.ts';
import { extremesOfClass } from '../src/main/store/instances.ts';
import { initProject } from '../src/main/store/project.ts';

const N = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'winnow-bench-'));
const project = initProject(join(dir, 'p'));
const { db } = project;
const classIds = Array.from({ length: 10 }, (_, i) => addClass(db, { name: `class-${i}` }).id);
const image = db.prepare(
  "INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 28, 28, 1, 100, '')",
);
const instance = db.prepare(
  "INSERT INTO instances (image_hash, class_id, label_id, source, contribution, created_at) VALUES (?, ?, ?, 'generated', ?, '')",
);
db.transaction(() => {
  for (let i = 0; i < N; i++) {
    const hash = i.toString(16).padStart(64, '0');
    const classId = classIds[i % classIds.length] as number;
    image.run(hash);
    instance.run(hash, classId, classId, Math.sin(i) * 0.5);
  }
})();
db.exec('ANALYZE');

const times: number[] = [];
for (let r = 0; r < 200; r++) {
  const classId = classIds[r % classIds.length] as number;
  const started = performance.now();
  extremesOfClass(db, classId, 50, 'best');
  extremesOfClass(db, classId, 50, 'worst');
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (q: number) => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(2);
console.log(
  `best 50 + worst 50 of one class, ${N} instances: median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`,
);
project.close();
rmSync(dir, { recursive: true, force: true });
