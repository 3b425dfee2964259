// What the SYSTEM hive says about the sessions smss starts once its own work is done (reference §2, §4, §5):
// the Required subsystems and their command lines, the initial commands and the session model; and what a
// bugcheck does (CrashControl\AutoReboot).
//
// The session model is smss86's own value, since Windows decides it by its version, not the registry:
// `Session Manager\SessionModel` (REG_SZ) "Vista" (the default: session 0 runs csrss + wininit, session 1
// csrss + winlogon) or "NT5" (Windows XP, Server 2003, ReactOS: one session 0 with csrss + winlogon, and
// winlogon starts services and lsass). Any other text is a ConfigError.
import { REG_DWORD, type Hive } from "../hive/index.ts";
import type { Environment } from "./environment.ts";
import { ConfigError, currentControlSet, multiStringValue, stringValue, type SessionManagerKey } from "./values.ts";

export type SessionModel = "Vista" | "NT5";

export interface SubsystemCommand {
  /** The value's name under SubSystems (e.g. Windows). */
  name: string;
  /** Its command line, expanded (e.g. C:\Windows\system32\csrss.exe ObjectDirectory=\Windows ...). */
  commandLine: string;
}

export interface SessionConfig {
  model: SessionModel;
  /** SubSystems\Required in order, without Debug (which Windows skips too). */
  required: SubsystemCommand[];
  /** Session 0's initial command in the Vista model (S0InitialCommand, default wininit.exe). */
  sessionZeroCommand: string;
  /** The console session's initial command (Windows hard-codes winlogon.exe). */
  initialCommand: string;
}

const WINLOGON = "winlogon.exe";
const WININIT = "wininit.exe";

export function readSessionConfig(sessionManager: SessionManagerKey, environment: Environment): SessionConfig {
  const subsystemsPath = `${sessionManager.displayPath}\\SubSystems`;
  const subsystems = sessionManager.key.subkey("SubSystems");
  const requiredValue = subsystems?.value("Required");
  const names = requiredValue ? multiStringValue(requiredValue, subsystemsPath) : [];
  const required = names
    .filter((name) => name.toUpperCase() !== "DEBUG" && name !== "")
    .map((name) => {
      const value = subsystems?.value(name);
      if (value === undefined) throw new ConfigError(`${subsystemsPath}\\${name}`, "is named in Required but missing");
      const { text, expand } = stringValue(value, subsystemsPath);
      return { name, commandLine: expand ? environment.expand(text) : text };
    });
  return {
    model: sessionModel(sessionManager),
    required,
    sessionZeroCommand: optionalString(sessionManager, "S0InitialCommand", environment) ?? WININIT,
    initialCommand: WINLOGON,
  };
}

function optionalString(sessionManager: SessionManagerKey, name: string, environment: Environment): string | undefined {
  const value = sessionManager.key.value(name);
  if (value === undefined) return undefined;
  const { text, expand } = stringValue(value, sessionManager.displayPath);
  return expand ? environment.expand(text) : text;
}

function sessionModel(sessionManager: SessionManagerKey): SessionModel {
  const value = sessionManager.key.value("SessionModel");
  if (value === undefined) return "Vista";
  const { text } = stringValue(value, sessionManager.displayPath);
  if (text === "Vista" || text === "NT5") return text;
  throw new ConfigError(`${sessionManager.displayPath}\\SessionModel`, `is "${text}", not "Vista" or "NT5"`);
}

/** Control\CrashControl\AutoReboot: restart after a STOP instead of halting. Windows' default is 1; a value of another type or size counts as absent. */
export function crashAutoReboot(hive: Hive): boolean {
  const value = hive.key(`${currentControlSet(hive)}\\Control\\CrashControl`)?.value("AutoReboot");
  if (value === undefined || value.type !== REG_DWORD || value.dataLength !== 4) return true;
  return value.asDword() !== 0;
}

