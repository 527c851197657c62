// Type declarations for @dollhousemcp/telemetry (index.mjs). Hand-written; checked by
// `tsc --noEmit -p examples/tsconfig.json` over examples/typed-app.ts.

/** The user's answer, or 'silenced' when a kill switch is set in the app's environment. */
export type ConsentState = 'not_answered' | 'declined' | 'given' | 'withdrawn' | 'silenced';

export type McpClient = 'claude-desktop' | 'claude-code' | 'gemini' | 'other' | 'unknown';

export type Environment = Record<string, string | undefined>;

export interface InstallationFacts {
  installMethod: 'npm' | 'npx' | 'git-clone' | 'docker' | 'unknown';
  installType: 'new' | 'upgrade' | 'reinstall';
  previousVersion?: string;
}

export interface UpdateFacts {
  fromVersion: string;
  toVersion: string;
  success: boolean;
  durationMs: number;
  errorCategory?: 'network' | 'permissions' | 'dependencies' | 'corruption' | 'unknown';
}

export interface FailureFields {
  errorType?: 'startup' | 'runtime' | 'shutdown' | 'unknown';
  errorCategory?: string;
  errorMessage?: string;
  component?: string;
  recovered?: boolean;
}

export type CounterName =
  | 'personasUsed'
  | 'skillsUsed'
  | 'templatesUsed'
  | 'agentsUsed'
  | 'memoriesUsed'
  | 'portfolioSyncs'
  | 'collectionBrowses'
  | 'sessions'
  | 'errors'
  | 'crashes';

export type TimingName = 'startup' | 'response';

export interface UsageIncrements {
  counters?: Partial<Record<CounterName, number>>;
  timings?: Partial<Record<TimingName, number>>;
}

export interface TelemetryOptions {
  /** The app's name, e.g. "dollhousemcp" (required). */
  app: string;
  /** The app's version, e.g. "1.9.16" (required). */
  appVersion: string;
  mcpClient?: McpClient | string;
  /** Defaults to this Node's version. */
  nodeVersion?: string;
  /** The component crash records name when the app registered one. */
  component?: string;
  /** Data root; else DOLLHOUSE_HOME, else ~/.dollhouse. */
  home?: string;
  /** Daemon socket; else DOLLHOUSE_TELEMETRY_SOCKET, XDG_RUNTIME_DIR, <root>/run. */
  socketPath?: string;
  /** Where kill switches and paths are read; process.env by default. */
  env?: Environment;
  /** Sent with every hello until the daemon settled it. */
  installation?: InstallationFacts;
  update?: UpdateFacts;
  /** Start the platform package's daemon once consent is given (true). */
  startDaemon?: boolean;
  daemonPath?: string;
  maxQueued?: number;
  timeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A random fraction in [0, 1) for the reconnection jitter. */
  random?: () => number;
  /** Print every event and the daemon's verdict to stderr (DOLLHOUSE_TELEMETRY_DEBUG=1). */
  debug?: boolean;
}

export interface FlushResult {
  /** True when the daemon answered the sync. */
  confirmed: boolean;
  /** Messages of this connection the daemon kept (cumulative). */
  accepted: number;
  /** Messages of this connection the daemon did not keep (cumulative). */
  dropped: number;
  /** Why it was not confirmed: kill_switch, closed, no_daemon, timeout, connection_closed, ... */
  reason?: string;
}

export interface ClientStats {
  queued: number;
  delivered: number;
  droppedQueueFull: number;
  droppedNoDaemon: number;
  droppedDisabled: number;
  droppedInvalid: number;
}

export interface CrashHandlerOptions {
  app: string;
  appVersion: string;
  mcpClient?: string;
  nodeVersion?: string;
  component?: string;
  home?: string;
  env?: Environment;
  onRecord?: (file: string, event: Record<string, unknown>) => void;
  onSkip?: (reason: string) => void;
}

export declare class TelemetryClient {
  constructor(options: TelemetryOptions);
  readonly enabled: boolean;
  readonly stats: ClientStats;
  consentState(): ConsentState;
  installCrashHandler(extra?: { component?: string }): () => void;
  track(event: Record<string, unknown> & { eventType: string }): boolean;
  trackInstallation(facts: InstallationFacts): boolean;
  trackUpdate(facts: UpdateFacts): boolean;
  trackError(error: unknown, extra?: FailureFields): boolean;
  trackCrash(error: unknown, extra?: FailureFields): boolean;
  usage(increments: UsageIncrements): boolean;
  flush(timeoutMs?: number): Promise<FlushResult>;
  close(timeoutMs?: number): Promise<FlushResult>;
}

export declare function createTelemetry(options: TelemetryOptions): TelemetryClient;
export declare function consentState(options?: { home?: string; env?: Environment }): ConsentState;
export declare function installCrashHandler(options: CrashHandlerOptions): () => void;
export declare function writeCrashRecord(record: {
  root: string;
  app: string;
  appVersion: string;
  mcpClient?: string;
  nodeVersion?: string;
  timeMs: number;
  event: Record<string, unknown>;
  pid?: number;
}): string;
export declare function runTelemetryCli(
  args?: readonly string[],
  options?: RunCtlOptions,
): Promise<number>;
export declare function runCtl(args: readonly string[], options?: RunCtlOptions): Promise<number>;
export interface RunCtlOptions {
  ctlPath?: string;
  home?: string;
  socketPath?: string;
  env?: Environment;
  stdio?: 'inherit' | 'ignore' | 'pipe';
}
export declare function findProgram(
  program: 'dollhouse-telemetryd' | 'dollhousectl',
  explicit?: string,
): string | null;
export declare function platformPackageName(platform?: string, arch?: string): string;
export declare function killSwitch(env?: Environment): 'DO_NOT_TRACK' | 'DOLLHOUSE_TELEMETRY' | 'CI' | null;
export declare function resolveDataRoot(options?: { home?: string; env?: Environment }): string;
export declare function resolveSocketPath(options?: {
  socketPath?: string;
  home?: string;
  env?: Environment;
}): string | null;

export declare const kDefaultFlushTimeoutMs: number;
export declare const kDefaultMaxQueued: number;
export declare const kDefaultTimeoutMs: number;
export declare const kMaxLineBytes: number;
export declare const kMaxSetupReports: number;
export declare const kMaxCrashRecordBytes: number;
export declare const kStartupWindowMs: number;
