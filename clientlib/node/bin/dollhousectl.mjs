#!/usr/bin/env node
// `npx dollhousectl ...`: the platform package's dollhousectl with the same arguments, standard
// streams and exit code.
import { runCtl } from '../src/cli.mjs';

process.exitCode = await runCtl(process.argv.slice(2));
