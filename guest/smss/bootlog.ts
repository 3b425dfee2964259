// The boot log on C: (\Windows\ntbtlog.txt, where Windows keeps its own): one line per boot, written and
// synced so that the host can read it out of the disk image afterwards.
import * as sys from "sys";
import { ntToGuestPath } from "../../src/ntpath/index.ts";
import { decodeLatin1 } from "../../src/hive/text.ts";

export const BOOT_LOG = "\\SystemRoot\\ntbtlog.txt";

export function recordBoot(facts: { pid: number; kernelRelease: string; commandLine: string }): {
  path: string;
  boot: number;
  bytes: number;
} {
  const file = ntToGuestPath(BOOT_LOG);
  let previous = "";
  try {
    previous = decodeLatin1(sys.readFile(file));
  } catch (err) {
    if (!(err instanceof sys.SysError && err.code === "ENOENT")) throw err;
  }
  const boot = previous.split("\n").filter((line) => line.startsWith("BOOT ")).length + 1;
  const line = `BOOT ${boot} smss pid=${facts.pid} kernel=${facts.kernelRelease} cmdline="${facts.commandLine}"\r\n`;
  const fd = sys.open(file, sys.O_WRONLY | sys.O_CREAT | sys.O_APPEND, 0o644);
  try {
    sys.write(fd, line);
    sys.fsync(fd);
  } finally {
    sys.close(fd);
  }
  sys.sync();
  return { path: BOOT_LOG, boot, bytes: previous.length + line.length };
}
