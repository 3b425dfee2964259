// Command lines. smss's syntax for BootExecute (and the subsystems): tokens split at characters up to and
// including space; leading keywords `autocheck`, `async`, `debug`; then the image, with `.exe` added when
// it has no extension; the rest are its arguments. Win32 programs' syntax (a Shell value, a command typed in
// cmd): arguments split as the C runtime splits them for main().

export interface SmssCommand {
  /** The line as written. */
  line: string;
  autocheck: boolean;
  async: boolean;
  debug: boolean;
  /** The image as named (extension added), e.g. autochk.exe or C:\tools\x.exe. */
  image: string;
  args: string[];
}

export class CommandLineError extends Error {
  constructor(
    readonly line: string,
    why: string,
  ) {
    super(`command line ${JSON.stringify(line)}: ${why}`);
    this.name = "CommandLineError";
  }
}

/** Characters up to and including space separate tokens: the control characters become spaces first. */
const CONTROL_CHARACTERS = /[\x00-\x1f]/g;

export function tokenize(line: string): string[] {
  // Native replace and split, not a loop over the characters (about ten times dearer per character in the
  // guest's interpreter), nor a split at a regular expression (the engine tries the expression at every
  // position, one call each).
  return line.replace(CONTROL_CHARACTERS, " ").split(" ").filter((token) => token !== "");
}

export function parseSmssCommand(line: string): SmssCommand {
  const tokens = tokenize(line);
  const flags = { autocheck: false, async: false, debug: false };
  while (tokens.length > 0) {
    const word = tokens[0].toLowerCase();
    if (word !== "autocheck" && word !== "async" && word !== "debug") break;
    flags[word] = true;
    tokens.shift();
  }
  const image = tokens.shift();
  if (image === undefined) throw new CommandLineError(line, "names no program");
  return { line, ...flags, image: withExeExtension(image), args: tokens };
}

/** An image named without an extension gets `.exe`, as smss and CreateProcess add it. */
export function withExeExtension(image: string): string {
  const base = image.slice(image.lastIndexOf("\\") + 1);
  return base.includes(".") ? image : image + ".exe";
}

/**
 * A Win32 command line split into arguments as the C runtime does for main() (msvcrt since 2008): white
 * space (space, tab) separates arguments outside double quotes; a quote toggles quoting and is dropped;
 * inside quotes, "" is a literal quote; 2n backslashes before a quote are n backslashes (and the quote
 * counts), 2n+1 are n backslashes and a literal quote; other backslashes are literal. `""` is an empty
 * argument.
 */
export function splitWin32CommandLine(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let started = false;
  let quoted = false;
  for (let at = 0; at < line.length; at++) {
    const char = line[at];
    if (char === "\\") {
      let end = at;
      while (line[end] === "\\") end++;
      const count = end - at;
      if (line[end] === '"') {
        current += "\\".repeat(count >> 1);
        if (count % 2 === 1) {
          current += '"';
          at = end;
        } else {
          at = end - 1;
        }
      } else {
        current += "\\".repeat(count);
        at = end - 1;
      }
      started = true;
    } else if (char === '"') {
      if (quoted && line[at + 1] === '"') {
        current += '"';
        at++;
      } else {
        quoted = !quoted;
      }
      started = true;
    } else if (!quoted && (char === " " || char === "\t")) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}
