// cmd's input: lines from standard input, which may be a terminal (in canonical mode: the kernel edits the
// line and a read returns one), a regular file or a pipe. cmd reads no further than the line it runs, so
// that the programs it starts read the input after it, as Windows' cmd leaves it to them: from a file it
// reads a block and seeks back to the end of the line; from a pipe, which cannot seek, a byte at a time.
// Ctrl-C at a terminal sends SIGINT to cmd and the program it waits for: the program ends, cmd does not (it
// takes SIGINT on a signalfd) and drops the line being typed.
import * as sys from "sys";
import { decodeUtf8 } from "../../src/hive/index.ts";

const BLOCK = 4096;
/** Windows' cmd refuses longer lines ("The input line is too long."); here they are also what is kept in memory. */
export const MAX_LINE_BYTES = 8191;
/** What readLine returns instead of a line (symbols: no typed line can be mistaken for one). */
export const INTERRUPTED = Symbol("interrupted");
export const TOO_LONG = Symbol("too long");
const NEWLINE = 0x0a;

export type InputKind = "terminal" | "file" | "stream";

export class LineReader {
  readonly kind: InputKind;
  private readonly interrupts: number;
  /** Bytes of a line read so far (a terminal's or a file's line may take several reads). */
  private pending: number[] = [];
  /**
   * A terminal's bytes after the line returned: one read usually returns one line, but input typed while
   * the terminal was not in canonical mode (ahead of winlogon's switch to it) comes as one block.
   */
  private typedAhead = new Uint8Array(0);
  /** The line being read has gone past MAX_LINE_BYTES: its bytes are dropped up to its end. */
  private overlong = false;

  constructor(private readonly fd: number) {
    const type = sys.fstat(fd).mode & sys.S_IFMT;
    this.kind = type === sys.S_IFREG ? "file" : type === sys.S_IFCHR && isTerminal(fd) ? "terminal" : "stream";
    this.interrupts = sys.signalfd([sys.SIGINT]);
  }

  /** Forgets Ctrl-C presses that came while a program ran: that program took them. */
  dropInterrupts(): void {
    while (sys.poll([{ fd: this.interrupts, events: sys.POLLIN }], 0)[0] !== 0) sys.read(this.interrupts, 128);
  }

  /**
   * The next line without its line end (CR LF or LF); INTERRUPTED when Ctrl-C dropped the line being
   * typed; TOO_LONG for a line longer than MAX_LINE_BYTES (read to its end and dropped); undefined at the
   * end of input (a last line without a line end is still a line).
   */
  readLine(): string | typeof INTERRUPTED | typeof TOO_LONG | undefined {
    for (;;) {
      if (this.typedAhead.length > 0) {
        const ahead = this.typedAhead;
        const newline = ahead.indexOf(NEWLINE);
        const used = newline < 0 ? ahead : ahead.subarray(0, newline + 1);
        this.append(used);
        this.typedAhead = ahead.subarray(used.length);
        if (newline >= 0) return this.take(this.pending.length - 1);
      }
      const [input, interrupt] = sys.poll(
        [
          { fd: this.fd, events: sys.POLLIN },
          { fd: this.interrupts, events: sys.POLLIN },
        ],
        -1,
      );
      if (interrupt !== 0) {
        sys.read(this.interrupts, 128);
        this.pending = [];
        this.overlong = false;
        return INTERRUPTED;
      }
      if (input === 0) continue;
      const chunk = sys.read(this.fd, this.kind === "stream" ? 1 : BLOCK);
      if (chunk.length === 0) {
        if (this.pending.length === 0 && !this.overlong) return undefined;
        return this.take(this.pending.length);
      }
      const newline = chunk.indexOf(NEWLINE);
      this.append(newline < 0 ? chunk : chunk.subarray(0, newline + 1));
      if (newline < 0) continue;
      if (this.kind === "file" && newline + 1 < chunk.length) sys.lseek(this.fd, newline + 1 - chunk.length, sys.SEEK_CUR);
      if (this.kind === "terminal") this.typedAhead = chunk.slice(newline + 1);
      return this.take(this.pending.length - 1);
    }
  }

  /** A line's bytes and its line end: at most MAX_LINE_BYTES of text is kept. */
  private append(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (this.pending.length < MAX_LINE_BYTES + 2) this.pending.push(byte);
      else this.overlong = true;
    }
  }

  private take(length: number): string | typeof TOO_LONG {
    const end = length > 0 && this.pending[length - 1] === 0x0d ? length - 1 : length;
    const tooLong = this.overlong || end > MAX_LINE_BYTES;
    const line = tooLong ? TOO_LONG : decodeUtf8(new Uint8Array(this.pending.slice(0, end)));
    this.pending = [];
    this.overlong = false;
    return line;
  }
}

/**
 * Whether fd is a terminal. Turning echo and line editing on says so (ENOTTY otherwise) and is needed
 * anyway: whoever had the terminal before (winlogon reading a password) may have left them off.
 */
function isTerminal(fd: number): boolean {
  try {
    sys.setTerminalMode(fd, true, true);
    return true;
  } catch (error) {
    if (error instanceof sys.SysError && error.code === "ENOTTY") return false;
    throw error;
  }
}
