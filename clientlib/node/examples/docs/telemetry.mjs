// telemetry.mjs: the app's one telemetry client, made once at startup.
import { createTelemetry } from '@dollhousemcp/telemetry';

export const VERSION = '1.9.16';

// previousVersion: the version the app's own state recorded on its last run (null when there
// was none: a new installation).
export function startTelemetry({ previousVersion, installMethod = 'npm', mcpClient }) {
  const facts = {};
  if (previousVersion === null) {
    facts.installation = { installMethod, installType: 'new' };
  } else if (previousVersion !== VERSION) {
    facts.installation = { installMethod, installType: 'upgrade', previousVersion };
    facts.update = { fromVersion: previousVersion, toVersion: VERSION, success: true,
      durationMs: 0 };
  }
  const telemetry = createTelemetry({ app: 'dollhousemcp', appVersion: VERSION, mcpClient,
    ...facts });
  telemetry.installCrashHandler();
  if (telemetry.consentState() === 'not_answered') {
    console.error('DollhouseMCP can share anonymous usage data to help fix what breaks. ' +
      'It is off until you answer: dollhousemcp telemetry consent');
  }
  return telemetry;
}
