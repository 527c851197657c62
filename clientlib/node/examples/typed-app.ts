// A typed app against the package's declarations (index.d.mts); `tsc --noEmit` checks it.
import {
  createTelemetry,
  consentState,
  runTelemetryCli,
  type ConsentState,
  type FlushResult,
  type TelemetryClient,
} from '@dollhousemcp/telemetry';

const telemetry: TelemetryClient = createTelemetry({
  app: 'dollhousemcp',
  appVersion: '1.9.16',
  mcpClient: 'claude-code',
  installation: { installMethod: 'npm', installType: 'upgrade', previousVersion: '1.9.15' },
  update: { fromVersion: '1.9.15', toVersion: '1.9.16', success: true, durationMs: 4200 },
});
const uninstall: () => void = telemetry.installCrashHandler({ component: 'server' });

const state: ConsentState = telemetry.consentState();
if (state === 'not_answered' && consentState() !== 'silenced') {
  console.error('Anonymous telemetry is off until you answer: dollhousemcp telemetry consent');
}
const queued: boolean = telemetry.trackError(new Error('sync failed'), { component: 'portfolio' });
telemetry.trackCrash({ errorType: 'runtime', errorCategory: 'EPIPE', errorMessage: 'pipe closed',
  component: 'transport', recovered: true });
telemetry.usage({ counters: { sessions: 1, personasUsed: 2 }, timings: { startup: 640 } });

async function finish(): Promise<number> {
  const result: FlushResult = await telemetry.flush(1000);
  if (result.confirmed) console.log(`kept ${result.accepted}, dropped ${result.dropped}`);
  else console.log(`not confirmed: ${result.reason ?? 'unknown'} (queued: ${queued})`);
  await telemetry.close();
  uninstall();
  return runTelemetryCli(['status']);
}
void finish();
