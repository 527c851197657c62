// server.mjs: startup, feature use, a handled error, and the end of the process.
import { startTelemetry } from './telemetry.mjs';

const started = Date.now();
const telemetry = startTelemetry({ previousVersion: process.argv[2] ?? null,
  mcpClient: 'claude-code' });
telemetry.usage({ counters: { sessions: 1 }, timings: { startup: Date.now() - started } });

function activatePersona(name) {
  telemetry.usage({ counters: { personasUsed: 1 } });
  return `persona ${name} active`;
}

function syncPortfolio() {
  const error = new Error('connect ECONNREFUSED');
  error.code = 'ECONNREFUSED';
  throw error;
}

console.log(activatePersona('creative-writer'));
try {
  syncPortfolio();
} catch (error) {
  telemetry.trackError(error, { component: 'PortfolioSync' });
}
// At exit: a bounded chance for what is queued, never a hang.
await telemetry.close(1000);
