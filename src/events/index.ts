// Phase events: the probe channel's vocabulary, shared by the guest (producer) and the host (parser).
// One JSON object per line on the probe serial port (COM2 in the guest, /dev/ttyS1).

/**
 * Phases smss reports, in the order they happen on a good boot: its own set-up, then the Session Manager's
 * work from the SYSTEM hive (reference §2), the kernel part of the Win32 subsystem (kmode), then ready.
 */
export const PHASES = [
  "smss-start",
  "mount",
  "system-info",
  "hive",
  "environment",
  "object-namespace",
  "boot-execute",
  "volume-write",
  "renames",
  "paging-files",
  "dynamic-environment",
  "kmode",
  "ready",
] as const;
/**
 * `stop` (a bugcheck) and `power-off` end the machine; `autochk` is reported by autochk.exe itself, once
 * per volume it looks at; `restart` comes before the machine restarts itself (autochk repaired the boot
 * volume); `scenario-point` only on machines whose kernel command line asks for it (test machinery, see
 * guest/smss/scenario.ts); `subsystem` is a subsystem's own (csrss: up, stopped or failed); `services` is services.exe's (up). After `ready`
 * come the sessions' events: `session` (created, ended), `process` (every process a guest program starts,
 * and its exit), `logon-prompt` (winlogon waits for a user name), `logon` (done: a user logged on, failed:
 * refused; a logoff is `logon` done with `loggedOff`) and `command` (smss's answer to a control-line
 * command). None is part of the ordered list.
 */
export type Phase =
  | (typeof PHASES)[number]
  | "stop"
  | "power-off"
  | "autochk"
  | "restart"
  | "scenario-point"
  | "subsystem"
  | "services"
  | "session"
  | "process"
  | "logon-prompt"
  | "logon"
  | "command";

/** What `smss86 boot --until` can wait for: smss's phases, then winlogon's first prompt on the console. */
export const BOOT_MILESTONES = [...PHASES, "logon-prompt"] as const;
export type BootMilestone = (typeof BOOT_MILESTONES)[number];

/** The kernel command-line word that makes smss stop at the scenario point. */
export const SCENARIO_POINT_SWITCH = "smss86.scenario-point";
/**
 * The kernel command-line word that lets the host end a guest process through smss's control line
 * (`kill <pid> [signal]`): tests only, absent from every machine a user boots.
 */
export const TEST_CONTROL_SWITCH = "smss86.test-control";

/** smss's answer to a command on the control line (COM2): what it printed, or why it refused. */
export interface CommandData {
  command: string;
  output?: string;
  error?: string;
}

/** What the host sends on the probe line to let smss go on from the scenario point. */
export const SCENARIO_GO_BYTE = 0x0a;

export type PhaseStatus = "start" | "done" | "failed";

export interface SmssStartData {
  pid: number;
  /** The guest path smss was started from, e.g. /Windows/System32/smss.exe. */
  image: string;
  /** The same as an NT path, e.g. \SystemRoot\System32\smss.exe. */
  ntImage: string;
  argv: string[];
}

export interface SystemInfoData {
  commandLine: string;
  memoryKiB: number;
  kernelRelease: string;
}

export interface HiveData {
  path: string;
  bytes: number;
  /** clean, or recovered from its logs. */
  state: string;
  controlSet: string;
  /** Logs needed for recovery that could not be read (counted as absent), with why. */
  unreadableLogs: string[];
}

export interface EnvironmentData {
  /** In the order set; REG_EXPAND_SZ values already expanded. */
  variables: { name: string; value: string; expanded: boolean }[];
  problems: string[];
}

/** One symbolic link in the object namespace: NT name → NT target, and what the guest reaches through it. */
export interface LinkData {
  name: string;
  target: string;
  /** "char 4:64", "block 8:1", "directory", "missing", ... */
  resolves: string;
}

export interface ObjectNamespaceData {
  /** The ports smss created (NT names), served once it is resident. */
  ports: string[];
  directories: string[];
  links: LinkData[];
  volumes: { device: string; letter: string; blockDevice: string; mounted: boolean }[];
}

export interface KmodeData {
  /** False when the hive names no Kmode. */
  loaded: boolean;
  /** The NT path loaded (SubSystems\Kmode expanded), its size, and the sessions created in its table. */
  path?: string;
  bytes?: number;
  sessions?: number[];
}

export interface BootExecuteData {
  commands: { line: string; image?: string; exitCode?: number; signal?: number; skipped?: string; async: boolean }[];
  remountedReadWrite: boolean;
}

export interface AutochkData {
  volume: string;
  blockDevice: string;
  dirty: boolean;
  checked: boolean;
  findings: { kind: string; path?: string; detail: string; fixed?: string }[];
}

export interface RenamesData {
  /** The operations this boot ran (resumed: marked started by a boot that a power cut ended). */
  operations: { index: number; source: string; target: string; kind: string; result: "done" | "failed"; reason?: string; resumed?: boolean }[];
  /** Operations of the journal that an earlier, interrupted boot had finished. */
  finishedBefore: number;
  /** Hive commits made to journal the queue's progress. */
  commits: number;
  problems: string[];
}

export interface PagingFilesData {
  files: { path: string; guestPath: string; minMiB: number; maxMiB: number; sizeMiB: number; created: boolean; active: boolean }[];
  problems: string[];
  existingPageFiles: string[];
  /** /proc/swaps after activation: what the kernel swaps to. */
  swaps: string;
}

export interface DynamicEnvironmentData {
  written: { name: string; value: string }[];
}

/** `process` start: a guest program started another. `process` done: it ended (reported by whoever reaped it). */
export interface ProcessStartData {
  pid: number;
  parent: number;
  /** The win32k session it runs in; absent when it is in none. */
  session?: number;
  /** The guest path of its image, e.g. /Windows/System32/csrss.exe. */
  image: string;
  uid: number;
}

export interface ProcessExitData {
  pid: number;
  /** Known when the reaper started it or watches it. */
  image?: string;
  exitCode: number | null;
  signal: number | null;
}

/** `session` start (created in win32k with its subsystems up) and done (ended). */
export interface SessionData {
  sessionId: number;
  /** start: the session's processes smss watches, by role. */
  csrss?: number;
  initialCommand?: { image: string; pid: number };
}

/** `logon` done / failed, and `logon-prompt` done (then only sessionId). */
export interface LogonData {
  sessionId: number;
  user?: string;
  uid?: number;
  reason?: string;
  loggedOff?: boolean;
}

export interface StopData {
  /** Bugcheck code, e.g. 0xC000021A. */
  code: number;
  params: [number, number, number, number];
  reason: string;
  /** CrashControl\AutoReboot: the machine restarts after the STOP instead of halting. */
  restart?: boolean;
}

export interface PhaseEvent {
  /** Milliseconds since the guest kernel started (CLOCK_MONOTONIC), the same clock for every reporting process. */
  t: number;
  phase: Phase;
  status: PhaseStatus;
  data?: Record<string, unknown>;
}

export class ProbeParseError extends Error {
  constructor(readonly line: string, why: string) {
    super(`probe channel: ${why}: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = "ProbeParseError";
  }
}

export function encodeEvent(event: PhaseEvent): string {
  return JSON.stringify(event) + "\n";
}

export function decodeEvent(line: string): PhaseEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ProbeParseError(line, "not JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw new ProbeParseError(line, "not an object");
  const e = parsed as Record<string, unknown>;
  if (typeof e.t !== "number") throw new ProbeParseError(line, "no numeric t");
  if (typeof e.phase !== "string") throw new ProbeParseError(line, "no phase");
  if (e.status !== "start" && e.status !== "done" && e.status !== "failed") throw new ProbeParseError(line, "bad status");
  if (e.data !== undefined && (typeof e.data !== "object" || e.data === null)) throw new ProbeParseError(line, "bad data");
  return e as unknown as PhaseEvent;
}

export function formatStopCode(code: number): string {
  return "0x" + (code >>> 0).toString(16).toUpperCase().padStart(8, "0");
}
