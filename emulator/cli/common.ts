// What every command shares: exit codes, turning a failure into its one line on stderr, option parsers that
// refuse what cannot work (naming the range), and output to stdout that survives a full disk or a reader
// that went away.
import { InvalidArgumentError } from "commander";
import { writeSync } from "node:fs";
import { DiskImageError } from "../disk/image.ts";
import { FileError, describeSystemError } from "../files.ts";
import { HiveError } from "../../src/hive/index.ts";
import { RegApplyError, RegExportError, RegTextError } from "../../src/regtext/index.ts";
import { FatError } from "../../src/fat/fat.ts";
import { SnapshotError } from "../snapshot.ts";
import { LogFormatError } from "../serial-log.ts";

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Records a command's exit code (commander's actions return nothing). */
export type Settle = (code: number) => void;

/** The one line a failure is reported as, and its exit code. */
export function describeFailure(error: unknown): { line: string; code: number } {
  if (
    error instanceof FileError ||
    error instanceof HiveError ||
    error instanceof RegTextError ||
    error instanceof RegApplyError ||
    error instanceof RegExportError ||
    error instanceof DiskImageError ||
    error instanceof FatError ||
    error instanceof SnapshotError ||
    error instanceof LogFormatError
  ) {
    return { line: oneLine(error.message), code: EXIT_FAILED };
  }
  // Not expected on any input; still one line, with what is known, and no stack trace.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { line: `internal error (please report it): ${oneLine(message)}`, code: EXIT_FAILED };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ");
}

/**
 * A command's action: runs `work`, records its exit code, and reports a failure as one line prefixed with
 * the command's name.
 */
export function action<A extends unknown[]>(command: string, settle: Settle, work: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      settle(await work(...args));
    } catch (error) {
      const failure = describeFailure(error);
      process.stderr.write(`${command}: ${failure.line}\n`);
      settle(failure.code);
    }
  };
}

// ---- option values --------------------------------------------------------------------------------------

/** A whole number within [min, max], as --memory and --timeout take. */
export function integerIn(flag: string, min: number, max: number, unit: string, why = ""): (text: string) => number {
  return (text) => {
    const trimmed = text.trim();
    const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number of ${unit} from ${min} to ${max}${why}.`);
    }
    return value;
  };
}

/** A file name: not empty (an empty name would end up as a hidden file in the working directory). */
export function fileName(flag: string): (text: string) => string {
  return (text) => {
    if (text === "") throw new InvalidArgumentError(`${flag} takes a file name, not an empty string.`);
    return text;
  };
}

// ---- stdout --------------------------------------------------------------------------------------------

/** Stdout's reader went away (EPIPE): the rest of the output is not wanted, which is not a failure. */
export class StdoutClosed extends Error {
  override name = "StdoutClosed";
}

/** Lets writeStdoutSync sleep while a non-blocking stdout pipe is full. */
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to stdout before returning, as a sink that reuses its buffer needs. stdout may be a
 * non-blocking pipe (O_NONBLOCK is shared with whoever else holds it): when it is full, wait and retry.
 */
export function writeStdoutSync(bytes: Uint8Array | string): void {
  const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  for (let at = 0; at < data.length; ) {
    try {
      at += writeSync(1, data, at, data.length - at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") Atomics.wait(pauseCell, 0, 0, 1);
      else if (code === "EPIPE") throw new StdoutClosed();
      else throw new FileError("stdout", `cannot write: ${describeSystemError(error)}`);
    }
  }
}

/**
 * Stdout written through its stream (the guest console): a reader that went away stops the output, any
 * other failure (a full disk) is reported once, as one line, and makes the command fail.
 */
export function guardStdout(): { failed: () => boolean } {
  let reported = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || reported) return;
    reported = true;
    process.stderr.write(`smss86: stdout: cannot write: ${describeSystemError(error)}\n`);
  });
  return { failed: () => reported };
}
