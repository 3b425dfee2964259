// smss's command-line syntax for BootExecute (and the subsystems): tokens split at characters up to and
// including space; leading keywords `autocheck`, `async`, `debug`; then the image, with `.exe` added when
// it has no extension; the rest are its arguments.

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

export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let current = "";
  for (const char of line) {
    if (char.charCodeAt(0) <= 0x20) {
      if (current !== "") tokens.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (current !== "") tokens.push(current);
  return tokens;
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
  const base = image.slice(image.lastIndexOf("\\") + 1);
  return { line, ...flags, image: base.includes(".") ? image : image + ".exe", args: tokens };
}
