// cli.mjs: `dollhousemcp telemetry <command>` is dollhousectl's telemetry command.
import { runTelemetryCli } from '@dollhousemcp/telemetry';

const [command, ...rest] = process.argv.slice(2);
if (command === 'telemetry') {
  process.exitCode = await runTelemetryCli(rest);
}
