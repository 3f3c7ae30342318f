// The project's summary (`projectStatus`: each class's real samples by split and instances by
// decision), which every screen asks for when it opens (the review screen too, beside its class's
// queries), timed through the engine's API on a project of N bare instances in 10 classes, one in
// seven accepted and one in eleven rejected by the curator, the rest pending.
//
//   node bench/project-summary.ts [--instances 1000000] [--repeats 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../src/main/service/winnowService.ts';
import { addClass } from '../src/main/store/classes.ts';
import { curate } from '../src/main/store/curation.ts';
import { initProject } from '../src/main/store/project.ts';
import { addBareInstances } from '../test/helpers/bareInstances.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({
  options: { instances: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } },
});
const N = Number(args.instances);
const dir = mkdtempSync(join(tmpdir(), 'winnow-bench-'));
try {
  const project = initProject(join(dir, 'p'));
  const { db } = project;
  const classIds = Array.from({ length: 10 }, (_, i) => addClass(db, { name: `class-${i}` }).id);
  const ids = addBareInstances(db, N, classIds);
  curate(db, { instanceIds: ids.filter((id) => id % 7 === 0), action: 'accept' });
  curate(db, { instanceIds: ids.filter((id) => id % 11 === 0 && id % 7 !== 0), action: 'reject' });
  db.exec('ANALYZE');
  const { api } = createEngine(project);
  await api.projectStatus({}); // prepare once
  const times: number[] = [];
  for (let r = 0; r < Number(args.repeats); r++) {
    const started = performance.now();
    await api.projectStatus({});
    times.push(performance.now() - started);
  }
  console.log(
    `projectStatus on ${N.toLocaleString('en')} instances in 10 classes: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (${times.length} calls)`,
  );
  project.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
