// The kernel filesystems smss and its children need. devtmpfs is usually mounted by the kernel already
// (DEVTMPFS_MOUNT); mounting it again is then EBUSY, which is fine.
import * as sys from "sys";

const MOUNTS = [
  { source: "proc", target: "/proc", type: "proc" },
  { source: "sysfs", target: "/sys", type: "sysfs" },
  { source: "devtmpfs", target: "/dev", type: "devtmpfs" },
] as const;

export function mountSystemFilesystems(): { mounted: string[] } {
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
  return { mounted };
}
