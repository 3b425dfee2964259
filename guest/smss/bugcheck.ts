// The STOP screen. smss is PID 1: it must never exit (the kernel would panic), so a fatal error ends here,
// with the code and reason on the console and on the probe channel, and the machine halted.
import * as sys from "sys";
import { formatStopCode } from "../../src/events/index.ts";
import { say } from "./console.ts";
import { report } from "./probe.ts";

/** STATUS_SYSTEM_PROCESS_TERMINATED: what Windows shows when smss or a process it guards fails. */
export const STATUS_SYSTEM_PROCESS_TERMINATED = 0xc000021a;

export function bugcheck(code: number, params: [number, number, number, number], reason: string): never {
  const hex = (n: number) => formatStopCode(n);
  try {
    say(
      [
        "",
        "*** STOP: " + hex(code) + " (" + params.map(hex).join(",") + ")",
        "",
        "The Session Manager could not continue and the system has been halted:",
        "  " + reason,
        "",
        "Restart the machine. If this screen appears again, check the SYSTEM hive and the disk.",
        "",
      ].join("\n"),
    );
    report("stop", "failed", { code, params, reason });
    sys.sync();
  } finally {
    haltForever();
  }
}

function haltForever(): never {
  for (;;) {
    try {
      sys.reboot("halt");
    } catch {
      sys.sleep(3600_000);
    }
  }
}
