// cmd's built-in commands, named without regard to case. Each writes what Windows' cmd writes; a failure is
// its message on stderr and ERRORLEVEL 1, and success leaves ERRORLEVEL as it was (as Windows' interactive
// cmd leaves it for these commands).
import * as sys from "sys";
import { splitWin32CommandLine } from "../../src/config/commandline.ts";
import { guestToWin32Path } from "../../src/ntpath/index.ts";
import { dir } from "./dir.ts";
import { logoff, shutdown } from "./exit-windows.ts";
import { guestPathOf, isDirectory, onDiskCase } from "./paths.ts";
import type { Shell } from "./shell.ts";
import { tasklist } from "./tasklist.ts";

export interface Builtin {
  /** The line `help` shows for it. */
  help: string;
  /** `rest` is the line after the command's name, the character that ended the name included. */
  run(shell: Shell, rest: string): void;
}

const SYNTAX_ERROR = "The syntax of the command is incorrect.";

function isBlank(char: string | undefined): boolean {
  return char === " " || char === "\t";
}

/** Variables sorted by name without regard to case, as `set` lists the environment block. */
function sortedVariables(shell: Shell): { name: string; value: string }[] {
  return shell.environment.list().sort((a, b) => {
    const [left, right] = [a.name.toUpperCase(), b.name.toUpperCase()];
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

function set(shell: Shell, rest: string): void {
  let text = rest.replace(/^[ \t]+/, "");
  if (text === "") {
    for (const { name, value } of sortedVariables(shell)) shell.out(`${name}=${value}\n`);
    return;
  }
  if (text.startsWith("/")) {
    shell.fail(`SET ${text.split(/[ \t]/)[0]} is not supported by this cmd.exe.`);
    return;
  }
  // set "NAME=value" keeps what is between the quotes only (trailing blanks after them are not the value's).
  if (text.startsWith('"')) {
    const close = text.lastIndexOf('"');
    text = close > 0 ? text.slice(1, close) : text.slice(1);
  }
  const equals = text.indexOf("=");
  if (equals < 0) {
    const prefix = text.trimEnd().toUpperCase();
    const matches = sortedVariables(shell).filter(({ name }) => name.toUpperCase().startsWith(prefix));
    if (matches.length === 0) shell.fail(`Environment variable ${text.trimEnd()} not defined`);
    for (const { name, value } of matches) shell.out(`${name}=${value}\n`);
    return;
  }
  const name = text.slice(0, equals);
  const value = text.slice(equals + 1);
  if (name === "") {
    shell.fail(SYNTAX_ERROR);
  } else if (value !== "") {
    shell.environment.set(name, value);
  } else if (!shell.environment.delete(name)) {
    // Windows says nothing when there was nothing to delete, but the command failed.
    shell.errorLevel = 1;
  }
}

function echo(shell: Shell, rest: string): void {
  if (rest.trim() === "") {
    shell.out(`ECHO is ${shell.echo ? "on" : "off"}.\n`);
    return;
  }
  const word = rest.trim().toLowerCase();
  if (isBlank(rest[0]) && (word === "on" || word === "off")) {
    shell.echo = word === "on";
    return;
  }
  // The character after ECHO (a blank, or `.` in `echo.`) separates; everything after it is the text.
  shell.out(`${rest.slice(1)}\n`);
}

function cd(shell: Shell, rest: string): void {
  let text = rest.trim();
  // /D also changes the drive in Windows; C: is the only drive here.
  if (text.slice(0, 2).toLowerCase() === "/d" && (text.length === 2 || isBlank(text[2]))) text = text.slice(2).trim();
  text = text.replaceAll('"', "");
  if (text === "" || text.toUpperCase() === "C:") {
    shell.out(`${shell.currentDirectory}\n`);
    return;
  }
  if (text.length === 2 && text[1] === ":") {
    shell.fail("The system cannot find the drive specified.");
    return;
  }
  const guestPath = guestPathOf(text, shell.currentDirectory);
  const target = guestPath === undefined ? undefined : onDiskCase(guestPath);
  if (target === undefined) {
    shell.fail("The system cannot find the path specified.");
    return;
  }
  if (!isDirectory(target)) {
    shell.fail("The directory name is invalid.");
    return;
  }
  try {
    sys.chdir(target);
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    shell.fail(error.code === "EACCES" ? "Access is denied." : `${text}: ${error.message}`);
    return;
  }
  shell.currentDirectory = guestToWin32Path(target);
}

function type(shell: Shell, rest: string): void {
  const names = splitWin32CommandLine(rest);
  if (names.length === 0) {
    shell.fail(SYNTAX_ERROR);
    return;
  }
  for (const name of names) {
    // With several files, each one's name goes before it on stderr, as Windows writes it.
    if (names.length > 1) sys.write(2, `\n${name}\n\n\n`);
    const guestPath = guestPathOf(name, shell.currentDirectory);
    const file = guestPath === undefined ? undefined : onDiskCase(guestPath);
    if (file === undefined) {
      shell.fail("The system cannot find the file specified.");
      continue;
    }
    if (isDirectory(file)) {
      shell.fail("Access is denied.");
      continue;
    }
    let contents: Uint8Array;
    try {
      contents = sys.readFile(file);
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      shell.fail(error.code === "EACCES" ? "Access is denied." : `${name}: ${error.message}`);
      continue;
    }
    sys.write(1, contents);
  }
}

function ver(shell: Shell): void {
  const version = shell.versionLine();
  if ("line" in version) shell.out(`\n${version.line}\n`);
  else shell.fail(version.error);
}

function exit(_shell: Shell, rest: string): void {
  // EXIT [/B] [code]: /B ends a batch file in Windows; without one it ends cmd, as here. A code that is not
  // a number is 0, as Windows reads it.
  const words = rest.trim().split(/[ \t]+/).filter((word) => word !== "" && word.toLowerCase() !== "/b");
  const code = Number.parseInt(words[0] ?? "0", 10);
  sys.exit(Number.isNaN(code) ? 0 : code);
}

function cls(shell: Shell): void {
  // Home and erase, in the terminal's (VT100) terms.
  shell.out("\x1b[H\x1b[2J");
}

function help(shell: Shell, rest: string): void {
  const line = (name: string) => `${name.toUpperCase().padEnd(15)}${BUILTINS[name].help}\n`;
  const topic = rest.trim().toLowerCase();
  if (topic === "") {
    shell.out(Object.keys(BUILTINS).sort().map(line).join(""));
  } else if (BUILTINS[topic] !== undefined) {
    shell.out(line(topic));
  } else {
    shell.fail("This command is not supported by the help utility.");
  }
}

const CD_HELP = "Displays the name of or changes the current directory.";

export const BUILTINS: Record<string, Builtin> = {
  cd: { help: CD_HELP, run: cd },
  chdir: { help: CD_HELP, run: cd },
  cls: { help: "Clears the screen.", run: cls },
  dir: { help: "Displays a list of files and subdirectories in a directory.", run: dir },
  echo: { help: "Displays messages, or turns command echoing on or off.", run: echo },
  exit: { help: "Quits the CMD.EXE program (command interpreter).", run: exit },
  help: { help: "Provides Help information for Windows commands.", run: help },
  logoff: { help: "Logs the user off: ends every program of the session.", run: logoff },
  set: { help: "Displays, sets, or removes Windows environment variables.", run: set },
  shutdown: { help: "Shuts the machine down (SHUTDOWN [/S] [/T 0], or /L to log off).", run: shutdown },
  tasklist: { help: "Displays all currently running tasks, with their sessions and users.", run: tasklist },
  type: { help: "Displays the contents of a text file.", run: type },
  ver: { help: "Displays the Windows version.", run: ver },
};
