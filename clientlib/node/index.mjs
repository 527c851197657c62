// @dollhousemcp/telemetry: opt-in, privacy-first telemetry for Node apps through the per-user
// Dollhouse Telemetry daemon. See docs/clients.md.
export {
  TelemetryClient,
  kDefaultFlushTimeoutMs,
  kDefaultMaxQueued,
  kDefaultTimeoutMs,
  kMaxLineBytes,
  kMaxSetupReports,
} from './src/client.mjs';
export { consentState } from './src/consent.mjs';
export {
  installCrashHandler,
  kMaxCrashRecordBytes,
  kStartupWindowMs,
  writeCrashRecord,
} from './src/crash.mjs';
export { findProgram, platformPackageName } from './src/daemon.mjs';
export { runCtl, runTelemetryCli } from './src/cli.mjs';
export { killSwitch, resolveDataRoot, resolveSocketPath } from './src/environment.mjs';

import { TelemetryClient } from './src/client.mjs';

/** A client for one app: createTelemetry({ app, appVersion, mcpClient, ... }). */
export function createTelemetry(options) {
  return new TelemetryClient(options);
}
