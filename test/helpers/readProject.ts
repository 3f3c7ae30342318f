// Inspects a project the way read-only commands do (test/store/readonlyProject.test.ts):
//   node readProject.ts <project> <export-destination>
// prints {"summary": …, "exported": n, "writable": <what opening it for writing said>}.
import { exportDataset } from '../../src/main/pipeline/exportDataset.ts';
import { openProject } from '../../src/main/store/project.ts';
import { summarize } from '../../src/main/store/summary.ts';

const [dir, dest] = process.argv.slice(2) as [string, string];
const project = openProject(dir, { readonly: true });
const summary = summarize(project.db);
const exported = (await exportDataset(project, dest, { status: 'all' })).instances;
project.close();
let writable: string;
try {
  openProject(dir).close();
  writable = 'opened';
} catch (error) {
  writable = `${(error as Error).name}: ${(error as Error).message}`;
}
console.log(JSON.stringify({ summary, exported, writable }));
