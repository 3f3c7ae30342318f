#!/usr/bin/env node
// The CLI runs the TypeScript engine directly: Node 24 strips types natively, so there is no build step.
import { main } from '../src/main/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
