// The kernel filesystems smss and its children need. devtmpfs is usually mounted by the kernel already
// (DEVTMPFS_MOUNT); mounting it again is then EBUSY, which is fine. Then the shared runtime is registered
// with binfmt_misc: every program but smss.exe is bytecode that the kernel hands to qjs.exe (see
// guest/native/runtime.c), so the runtime's code is in memory once, as Windows shares ntdll.dll.
import * as sys from "sys";
import { SHARED_PROGRAM_MAGIC, SHARED_RUNTIME_PATH } from "../../src/programs/index.ts";

const MOUNTS = [
  { source: "proc", target: "/proc", type: "proc" },
  { source: "sysfs", target: "/sys", type: "sysfs" },
  { source: "devtmpfs", target: "/dev", type: "devtmpfs" },
  { source: "binfmt_misc", target: "/proc/sys/fs/binfmt_misc", type: "binfmt_misc" },
] as const;

const BINFMT_REGISTER = "/proc/sys/fs/binfmt_misc/register";

/**
 * Tells the kernel to start programs that begin with the shared-runtime magic with `runtime`. Flags: P, the
 * runtime gets the program's own argv[0] after its path; F, the kernel opens the runtime now, so the
 * registration holds whatever is mounted over its path later.
 */
export function registerSharedRuntime(runtime: string): void {
  sys.writeFile(BINFMT_REGISTER, `:smss86:M::${SHARED_PROGRAM_MAGIC}::${runtime}:PF`);
}

export function mountSystemFilesystems(): { mounted: string[]; sharedRuntime: string } {
  const mounted: string[] = [];
  for (const m of MOUNTS) {
    try {
      sys.mount(m.source, m.target, m.type, 0, "");
      mounted.push(m.target);
    } catch (err) {
      if (!(err instanceof sys.SysError && err.code === "EBUSY")) throw err;
      mounted.push(m.target + " (already)");
    }
  }
  registerSharedRuntime(SHARED_RUNTIME_PATH);
  return { mounted, sharedRuntime: SHARED_RUNTIME_PATH };
}
