// cmd.exe: the Windows command interpreter, interactive on standard input and output (a terminal, a file or a
// pipe; guest/cmd/input.ts). It shows the version banner, then the prompt (PROMPT, $P$G by default), reads
// a line, expands %VAR% and runs it: a built-in command (guest/cmd/builtins.ts) or a program found in the
// current directory or along Path (guest/cmd/shell.ts). Lines read from anything but a terminal are echoed
// after the prompt, as Windows' cmd echoes piped commands, so its output reads as a session. The end of the
// input ends it (exit code 0), and so do EXIT, LOGOFF and SHUTDOWN. Not here: batch files, redirection,
// pipes, && and ||, parentheses, FOR and IF.
//
// CMD [/Q] [/C command | /K command]: /Q starts with echo off (no prompt), /C runs the command and exits
// with its ERRORLEVEL, /K runs it and stays.
import * as sys from "sys";
import { expandPrompt } from "../../src/cmd/parse.ts";
import { Environment } from "../../src/config/environment.ts";
import { INTERRUPTED, LineReader, TOO_LONG } from "../cmd/input.ts";
import { Shell } from "../cmd/shell.ts";

const USAGE = "Usage: CMD [/Q] [/C command | /K command]\n";
const DEFAULT_PROMPT = "$P$G";

interface Options {
  echo: boolean;
  command?: string;
  /** /K: stay after the command. */
  stay: boolean;
}

function parseArguments(args: readonly string[]): Options {
  const options: Options = { echo: true, stay: false };
  for (let at = 0; at < args.length; at++) {
    const switchName = args[at].toLowerCase();
    if (switchName === "/q") {
      options.echo = false;
    } else if (switchName === "/c" || switchName === "/k") {
      // The rest of the command line is the command, quoted again where an argument holds a blank.
      options.command = args
        .slice(at + 1)
        .map((word) => (word.includes(" ") || word.includes("\t") ? `"${word}"` : word))
        .join(" ");
      options.stay = switchName === "/k";
      return options;
    } else if (switchName === "/?") {
      sys.write(1, USAGE);
      sys.exit(0);
    } else {
      sys.write(2, `cmd: ${args[at]} is not supported.\n${USAGE}`);
      sys.exit(1);
    }
  }
  return options;
}

const options = parseArguments(sys.argv.slice(1));
const shell = new Shell(Environment.fromEnvp(sys.environ()));
shell.echo = options.echo;
if (options.command !== undefined && !options.stay) {
  shell.run(options.command);
  sys.exit(shell.errorLevel);
}
const input = new LineReader(0);
if (options.command !== undefined) {
  shell.run(options.command);
  input.dropInterrupts();
} else {
  const version = shell.versionLine();
  if ("line" in version) shell.out(`${version.line}\n\n`);
  else sys.write(2, `${version.error}\n\n`);
}
for (;;) {
  if (shell.echo) {
    const version = shell.versionLine();
    const facts = { currentDirectory: shell.currentDirectory, now: new Date(), version: "line" in version ? version.line : "" };
    shell.out(expandPrompt(shell.environment.get("PROMPT") ?? DEFAULT_PROMPT, facts));
  }
  const line = input.readLine();
  if (line === undefined) {
    // A terminal's cursor is left after the prompt.
    if (input.kind === "terminal") shell.out("\n");
    sys.exit(0);
  }
  if (line === INTERRUPTED) {
    shell.out("\n");
    continue;
  }
  if (line === TOO_LONG) {
    sys.write(2, "The input line is too long.\n");
    continue;
  }
  if (input.kind !== "terminal" && shell.echo) shell.out(`${line}\n`);
  shell.run(line);
  input.dropInterrupts();
  // cmd leaves a blank line between a command's output and the next prompt.
  if (shell.echo && line.trim() !== "") shell.out("\n");
}
