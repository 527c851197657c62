// Where the daemon's files are and which kill switch is in force, resolved the way the daemon,
// dollhousectl and the C++ client library resolve them (common/environment.hpp): a flag or an
// option first, then the environment variable, then the default. Pure functions over an
// environment object; nothing here touches the file system or the network.
import os from 'node:os';
import path from 'node:path';

const OFF_VALUES = ['false', '0', 'off', 'no'];
const ON_VALUES = ['true', '1', 'on', 'yes'];

/** Variables that CI systems set and people do not set by hand (as in the daemon). */
export const CI_VARIABLES = Object.freeze(['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS',
  'GITLAB_CI', 'BUILDKITE', 'JENKINS_URL', 'TF_BUILD', 'CIRCLECI', 'TRAVIS', 'TEAMCITY_VERSION',
  'BITBUCKET_BUILD_NUMBER', 'CODEBUILD_BUILD_ID', 'DRONE', 'APPVEYOR', 'SEMAPHORE',
  'BUILD_BUILDID']);

/** Every variable killSwitch() reads. */
export const KILL_SWITCH_VARIABLES = Object.freeze(['DO_NOT_TRACK', 'DOLLHOUSE_TELEMETRY',
  ...CI_VARIABLES]);

function isSet(value) {
  return typeof value === 'string' && value !== '';
}

/**
 * The kill switch in force in `env`: 'DO_NOT_TRACK', 'DOLLHOUSE_TELEMETRY' or 'CI', else null.
 * DO_NOT_TRACK (anything but empty or 0) wins; then DOLLHOUSE_TELEMETRY=false|0|off|no; then a
 * CI environment, unless DOLLHOUSE_TELEMETRY=true|1|on|yes.
 */
export function killSwitch(env = process.env) {
  if (isSet(env.DO_NOT_TRACK) && env.DO_NOT_TRACK !== '0') return 'DO_NOT_TRACK';
  const flag = isSet(env.DOLLHOUSE_TELEMETRY) ? env.DOLLHOUSE_TELEMETRY.toLowerCase() : '';
  if (OFF_VALUES.includes(flag)) return 'DOLLHOUSE_TELEMETRY';
  if (ON_VALUES.includes(flag)) return null;
  const ci = CI_VARIABLES.some((name) => isSet(env[name]) &&
    !OFF_VALUES.includes(env[name].toLowerCase()));
  return ci ? 'CI' : null;
}

/** The data root: `home`, else DOLLHOUSE_HOME, else ~/.dollhouse (%USERPROFILE%\.dollhouse). */
export function resolveDataRoot({ home, env = process.env, platform = process.platform } = {}) {
  if (isSet(home)) return home;
  if (isSet(env.DOLLHOUSE_HOME)) return env.DOLLHOUSE_HOME;
  if (platform === 'win32') {
    const profile = isSet(env.USERPROFILE) ? env.USERPROFILE : os.homedir();
    return path.win32.join(profile, '.dollhouse');
  }
  const userHome = isSet(env.HOME) ? env.HOME : os.homedir();
  return path.posix.join(userHome, '.dollhouse');
}

/**
 * The daemon's socket: `socketPath`, else DOLLHOUSE_TELEMETRY_SOCKET, else
 * $XDG_RUNTIME_DIR/dollhouse/telemetry.sock (an absolute XDG_RUNTIME_DIR), else
 * <root>/run/telemetry.sock. On Windows the default is the user's named pipe, which needs the
 * user's SID: null is returned then, and the client looks the SID up before it connects.
 */
export function resolveSocketPath({ socketPath, home, env = process.env,
  platform = process.platform } = {}) {
  if (isSet(socketPath)) return socketPath;
  if (isSet(env.DOLLHOUSE_TELEMETRY_SOCKET)) return env.DOLLHOUSE_TELEMETRY_SOCKET;
  if (platform === 'win32') return null;
  if (isSet(env.XDG_RUNTIME_DIR) && env.XDG_RUNTIME_DIR.startsWith('/')) {
    return path.posix.join(env.XDG_RUNTIME_DIR, 'dollhouse', 'telemetry.sock');
  }
  return path.posix.join(resolveDataRoot({ home, env, platform }), 'run', 'telemetry.sock');
}

/** \\.\pipe\dollhouse-telemetry-<sid>: the daemon's pipe for the user with that SID. */
export function pipeNameForSid(sid) {
  return `\\\\.\\pipe\\dollhouse-telemetry-${sid}`;
}

/** The environment without its kill-switch variables (for tools that must not inherit them). */
export function withoutKillSwitches(env = process.env) {
  const out = { ...env };
  for (const name of KILL_SWITCH_VARIABLES) delete out[name];
  return out;
}
