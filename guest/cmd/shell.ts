// The state of one cmd.exe (its environment, ERRORLEVEL, echo, current directory) and what a typed line
// becomes: %VAR% expanded, then a built-in command or a program found along Path and waited for.
import * as sys from "sys";
import { commandWord } from "../../src/cmd/parse.ts";
import { splitWin32CommandLine } from "../../src/config/commandline.ts";
import { Environment } from "../../src/config/environment.ts";
import { ConfigError } from "../../src/config/values.ts";
import { versionLine, windowsVersion } from "../../src/config/version.ts";
import { HiveError } from "../../src/hive/index.ts";
import { isRegularFile } from "../lib/image-search.ts";
import { startProcess, waitForProcess } from "../lib/processes.ts";
import { openConfigHive } from "../lib/config-hive.ts";
import { BUILTINS } from "./builtins.ts";
import { currentWin32Directory, guestPathOf } from "./paths.ts";

/** What cmd sets ERRORLEVEL to when a command is not found, as Windows' cmd does. */
const NOT_RECOGNIZED = 9009;
/** PATHEXT when the environment has none: Windows' default. */
const DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD";

export class Shell {
  errorLevel = 0;
  echo = true;
  /** As cmd shows it, e.g. C:\Users\User; the process's own current directory is kept the same. */
  currentDirectory = currentWin32Directory();
  private version: { line: string } | { error: string } | undefined;

  constructor(readonly environment: Environment) {}

  out(text: string): void {
    sys.write(1, text);
  }

  /** A failure of a command: its message on stderr, ERRORLEVEL 1. */
  fail(message: string): void {
    sys.write(2, `${message}\n`);
    this.errorLevel = 1;
  }

  /** The version line from the SOFTWARE hive, read once; why it cannot be read, otherwise. */
  versionLine(): { line: string } | { error: string } {
    if (this.version === undefined) {
      try {
        this.version = { line: versionLine(windowsVersion(openConfigHive("SOFTWARE"))) };
      } catch (error) {
        if (!(error instanceof HiveError || error instanceof ConfigError || error instanceof sys.SysError)) throw error;
        this.version = { error: `The version cannot be read from the SOFTWARE hive: ${error.message}` };
      }
    }
    return this.version;
  }

  /** %NAME% as cmd expands a typed line: unknown names stay as written; ERRORLEVEL and CD are cmd's own when not set. */
  expand(line: string): string {
    return this.environment.expand(line, (name) => {
      const upper = name.toUpperCase();
      if (upper === "ERRORLEVEL") return String(this.errorLevel);
      if (upper === "CD") return this.currentDirectory;
      return undefined;
    });
  }

  /** Runs one line as typed. */
  run(typed: string): void {
    const line = this.expand(typed);
    const { builtin, rest } = commandWord(line);
    if (builtin === "" && rest.trim() === "") return;
    const command = BUILTINS[builtin.toLowerCase()];
    if (command !== undefined) {
      command.run(this, rest);
      return;
    }
    this.runProgram(splitWin32CommandLine(line.replace(/^[\s@]+/, "")));
  }

  private runProgram(argv: string[]): void {
    const [name = ""] = argv;
    const image = name === "" ? undefined : this.findProgram(name);
    if (image === undefined) {
      sys.write(2, `'${name}' is not recognized as an internal or external command,\noperable program or batch file.\n`);
      this.errorLevel = NOT_RECOGNIZED;
      return;
    }
    let pid: number;
    try {
      pid = startProcess(image, argv, this.environment.toEnvp());
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      this.fail(error.code === "EACCES" ? "Access is denied." : error.code === "ENOEXEC" ? "The system cannot execute the specified program." : `${name}: ${error.message}`);
      return;
    }
    const result = waitForProcess(pid, image);
    this.errorLevel = result.code ?? 128 + (result.signal ?? 0);
  }

  /**
   * As cmd searches: a name with a path in it is looked for there, any other in the current directory and
   * then along Path; in each place the name as typed when it has an extension, then with each of PATHEXT's.
   */
  private findProgram(name: string): string | undefined {
    const base = name.slice(Math.max(name.lastIndexOf("\\"), name.lastIndexOf("/"), name.lastIndexOf(":")) + 1);
    const extensions = (this.environment.get("PATHEXT") ?? DEFAULT_PATHEXT).split(";").filter((extension) => extension !== "");
    const spellings = [...(base.includes(".") ? [name] : []), ...extensions.map((extension) => name + extension)];
    const places = base !== name ? [""] : [this.currentDirectory, ...(this.environment.get("Path") ?? "").split(";").filter((dir) => dir.trim() !== "")];
    for (const place of places) {
      for (const spelling of spellings) {
        const guestPath = guestPathOf(place === "" ? spelling : `${place.replace(/\\+$/, "")}\\${spelling}`, this.currentDirectory);
        if (guestPath !== undefined && isRegularFile(guestPath)) return guestPath;
      }
    }
    return undefined;
  }
}
