// Phase "kmode": SubSystems\Kmode names the kernel part of the Win32 subsystem, win32k.sys (here a Linux
// kernel module, guest/kernel/win32k, that keeps the session table). smss loads it and creates session 0
// in its table; any failure is fatal, as in Windows. A hive without Kmode has no Win32 kernel part.
import * as sys from "sys";
import type { Environment } from "../../src/config/environment.ts";
import { stringValue, type SessionManagerKey } from "../../src/config/values.ts";
import type { KmodeData } from "../../src/events/index.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { createSession } from "../lib/win32k.ts";

export class KmodeError extends Error {
  override name = "KmodeError";
}

export function loadKmode(sessionManager: SessionManagerKey, environment: Environment): KmodeData {
  const where = `${sessionManager.displayPath}\\SubSystems`;
  const value = sessionManager.key.subkey("SubSystems")?.value("Kmode");
  if (value === undefined) return { loaded: false };
  let ntPath: string;
  let guestPath: string;
  try {
    const { text, expand } = stringValue(value, where);
    ntPath = expand ? environment.expand(text) : text;
    guestPath = ntObjectPath(ntPath);
  } catch (error) {
    throw new KmodeError(`${where}\\Kmode: ${(error as Error).message}`);
  }
  let bytes: number;
  try {
    bytes = sys.stat(guestPath).size;
    sys.loadKernelModule(guestPath);
    createSession(0);
  } catch (error) {
    throw new KmodeError(`cannot load ${ntPath}: ${(error as Error).message}`);
  }
  return { loaded: true, path: ntPath, bytes, sessions: [0] };
}
