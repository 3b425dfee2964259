// The STOP screen. smss is PID 1: it must never exit (the kernel would panic), so a fatal error ends here,
// with the code and reason on the console, on the VGA text screen (white on blue, written straight into
// the text buffer at 0xB8000 through /dev/mem: no console driver owns the screen) and on the probe channel,
// and the machine halted, or restarted when Control\CrashControl\AutoReboot says so.
import * as sys from "sys";
import { formatStopCode } from "../../src/events/index.ts";
import { say } from "./console.ts";
import { report } from "../lib/probe.ts";

/** STATUS_SYSTEM_PROCESS_TERMINATED: what Windows shows when smss or a process it guards fails. */
export const STATUS_SYSTEM_PROCESS_TERMINATED = 0xc000021a;
/** A process marked critical (csrss, wininit) ended. */
export const CRITICAL_PROCESS_DIED = 0xef;

/** Until the hive is read: halt, so that a STOP before it stays on the screen. */
let restartAfterStop = false;

export function setAutoReboot(restart: boolean): void {
  restartAfterStop = restart;
}

const VGA_TEXT_BUFFER = 0xb8000;
const COLUMNS = 80;
const ROWS = 25;
const WHITE_ON_BLUE = 0x1f;

function stopScreenLines(code: number, params: [number, number, number, number], reason: string): string[] {
  const hex = (n: number) => formatStopCode(n);
  return [
    "",
    "*** STOP: " + hex(code) + " (" + params.map(hex).join(",") + ")",
    "",
    restartAfterStop ? "The Session Manager could not continue; the system restarts:" : "The Session Manager could not continue and the system has been halted:",
    "  " + reason,
    "",
    "Restart the machine. If this screen appears again, check the SYSTEM hive and the disk.",
    "",
  ];
}

/** Long lines wrap at 80 columns; what does not fit in 25 rows is cut. */
function paintVgaScreen(lines: string[]): void {
  const cells = new Uint8Array(COLUMNS * ROWS * 2);
  const rows = lines.flatMap((line) => (line.length <= COLUMNS ? [line] : line.match(/.{1,80}/g) ?? [""]));
  for (let row = 0; row < ROWS; row++) {
    const text = rows[row] ?? "";
    for (let column = 0; column < COLUMNS; column++) {
      const code = text.charCodeAt(column);
      cells[(row * COLUMNS + column) * 2] = Number.isNaN(code) ? 0x20 : code < 0x7f ? code : 0x3f;
      cells[(row * COLUMNS + column) * 2 + 1] = WHITE_ON_BLUE;
    }
  }
  const fd = sys.open("/dev/mem", sys.O_RDWR | sys.O_SYNC, 0);
  try {
    sys.lseek(fd, VGA_TEXT_BUFFER, sys.SEEK_SET);
    sys.write(fd, cells);
  } finally {
    sys.close(fd);
  }
}

export function bugcheck(code: number, params: [number, number, number, number], reason: string): never {
  const lines = stopScreenLines(code, params, reason);
  try {
    say(lines.join("\n"));
    try {
      paintVgaScreen(lines);
    } catch (error) {
      say(`smss: the STOP screen could not be painted on the VGA screen: ${(error as Error).message}`);
    }
    sys.sync();
    // Last: the host may end the run as soon as it sees this.
    report("stop", "failed", { code, params, reason, restart: restartAfterStop });
  } finally {
    if (restartAfterStop) for (;;) sys.reboot("restart");
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
