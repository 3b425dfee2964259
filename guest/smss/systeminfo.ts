// What the kernel tells about the machine: command line, memory, release.
import * as sys from "sys";
import { decodeLatin1 } from "../../src/hive/text.ts";

export function readSystemInfo(): { commandLine: string; memoryKiB: number; kernelRelease: string } {
  return {
    commandLine: decodeLatin1(sys.readFile("/proc/cmdline")).trim(),
    memoryKiB: Math.round(sys.sysinfo().totalRam / 1024),
    kernelRelease: sys.uname().release,
  };
}
