// A resident program's watch over the children it started: they are reaped (and reported) as they end,
// from a signalfd that poll(2) waits on with whatever else the program serves.
import * as sys from "sys";
import { reportExit } from "./processes.ts";

export class Children {
  readonly fd = sys.signalfd([sys.SIGCHLD]);
  private readonly images = new Map<number, string>();

  add(pid: number, image: string): void {
    this.images.set(pid, image);
  }

  /** Reaps every child that has ended, reports and returns them. Call when poll says fd is readable. */
  reap(): sys.WaitResult[] {
    drainSignals(this.fd);
    const ended = reapEnded();
    for (const result of ended) {
      reportExit(result, this.images.get(result.pid));
      this.images.delete(result.pid);
    }
    return ended;
  }
}

/** Every child (or orphan, for PID 1) that has ended by now, reaped. */
export function reapEnded(): sys.WaitResult[] {
  const ended: sys.WaitResult[] = [];
  for (;;) {
    let result: sys.WaitResult | null;
    try {
      result = sys.waitpid(-1, sys.WNOHANG);
    } catch (error) {
      if (error instanceof sys.SysError && error.code === "ECHILD") return ended;
      throw error;
    }
    if (result === null) return ended;
    ended.push(result);
  }
}

/** Empties a non-blocking signalfd (the records say nothing waitpid does not). */
export function drainSignals(fd: number): void {
  for (;;) {
    try {
      if (sys.read(fd, 4096).length === 0) return;
    } catch (error) {
      if (error instanceof sys.SysError && error.code === "EAGAIN") return;
      throw error;
    }
  }
}
