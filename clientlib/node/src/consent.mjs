// The user's answer as telemetry.json records it, read without connecting to the daemon or
// starting anything, so an app can decide on a first-run notice (or a crash record) at no cost.
// The daemon stays the one that enforces consent: this is what the file says, nothing more.
// telemetry.json is written atomically by the daemon (temp file + rename), so a read sees a
// whole file or the previous one.
import fs from 'node:fs';
import path from 'node:path';

import { killSwitch, resolveDataRoot } from './environment.mjs';

/** A telemetry.json larger than this is not read (the daemon writes a few KiB at most). */
export const kMaxConfigBytes = 1024 * 1024;

const ANSWERS = ['not_answered', 'declined', 'given', 'withdrawn'];

/** telemetry.json as an object, or null when it is missing, unreadable, too large or corrupt. */
export function readConfig(root) {
  try {
    const file = path.join(root, 'telemetry.json');
    const info = fs.statSync(file);
    if (!info.isFile() || info.size > kMaxConfigBytes) return null;
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * The answer a config records: 'not_answered', 'declined', 'given' or 'withdrawn', read like the
 * daemon reads it (daemon/config.cpp): consentState when present, else derived from
 * consentGiven, consentTimestamp and installId; consentGiven false always wins over a recorded
 * yes, and so does the seed's `enabled` switch turned off. A missing or corrupt file is
 * 'not_answered' (the daemon keeps a corrupt file aside and starts over without consent).
 */
export function answerOf(config) {
  if (config === null) return 'not_answered';
  const given = config.consentGiven === true;
  let answer = config.consentState;
  if (!ANSWERS.includes(answer)) {
    const answered = typeof config.consentTimestamp === 'string' && config.consentTimestamp !== '';
    const hadId = typeof config.installId === 'string' && config.installId !== '';
    answer = given ? 'given' : !answered ? 'not_answered' : hadId ? 'withdrawn' : 'declined';
  }
  if (answer === 'given' && (!given || config.enabled === false)) return 'withdrawn';
  return answer;
}

/** Whether a category (installation, update, crash, error, usage, performance) is on. */
export function categoryOn(config, category) {
  if (config === null) return false;
  const categories = config.categories;
  if (categories && typeof categories === 'object' && typeof categories[category] === 'boolean') {
    return categories[category];
  }
  if ((category === 'crash' || category === 'error') && config.collectCrashReports === false) {
    return false;
  }
  if (category === 'usage' && config.collectUsageStats === false) return false;
  return true;
}

/** Whether the user switched this app off on its own (telemetry.json `apps`). */
export function appOff(config, app) {
  const entry = config?.apps?.[app];
  return entry !== null && typeof entry === 'object' && entry.enabled === false;
}

/**
 * 'silenced' when a kill switch is in force in `env`, else the user's answer from
 * <root>/telemetry.json: 'not_answered', 'declined', 'given' or 'withdrawn'. Never throws.
 */
export function consentState({ home, env = process.env } = {}) {
  try {
    if (killSwitch(env) !== null) return 'silenced';
    return answerOf(readConfig(resolveDataRoot({ home, env })));
  } catch {
    return 'not_answered';
  }
}
