// `smss86`: one program, a module per command (boot.ts, build.ts, disk.ts, hive.ts, log.ts, web.ts), each declaring its command and
// its options in one place. Usage, --help, option checks and exit codes come from commander. Exit codes:
// 0 done, 1 the operation failed (one line on stderr naming the file and why), 2 the command was misused.
import { Command, CommanderError } from "commander";
import { declareBoot } from "./boot.ts";
import { declareBuild } from "./build.ts";
import { declareDisk } from "./disk.ts";
import { describeFailure, EXIT_FAILED, EXIT_USAGE, guardStdout, type Settle } from "./common.ts";
import { declareHive } from "./hive.ts";
import { declareLog } from "./log.ts";
import { declareWeb } from "./web.ts";

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const settle: Settle = (code) => {
    exitCode = code;
  };
  const program = new Command("smss86")
    .description("The Windows NT Session Manager re-created in TypeScript, booted in an emulated PC (v86)")
    .helpCommand("help [command]", "show the help of a command")
    .showSuggestionAfterError(true);
  declareBoot(program, settle);
  declareBuild(program, settle);
  declareDisk(program, settle);
  declareHive(program, settle);
  declareLog(program, settle);
  declareWeb(program, settle);
  configure(program);
  const stdout = guardStdout();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    // Actions report their own failures; this is for anything that escaped them.
    const failure = describeFailure(error);
    process.stderr.write(`smss86: ${failure.line}\n`);
    return failure.code;
  }
  return stdout.failed() ? Math.max(exitCode, EXIT_FAILED) : exitCode;
}

/** Help asked for exits 0; help shown because a command is missing, and every misuse, exit 2. */
function commanderExitCode(error: CommanderError): number {
  if (error.code === "commander.helpDisplayed") return 0;
  if (error.code === "commander.help") return error.exitCode === 0 ? 0 : EXIT_USAGE;
  return EXIT_USAGE;
}

/**
 * Every command, however deep: errors as one line prefixed with the command's full name (commander's own
 * puts a suggestion on a second line), thrown instead of exiting so main decides the exit code.
 */
function configure(command: Command, parents: string[] = []): void {
  const name = [...parents, command.name()].join(" ");
  command.exitOverride();
  command.configureOutput({
    outputError: (text, write) => {
      const line = text.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim();
      write(`${name}: ${line} (see "${name} --help")\n`);
    },
  });
  for (const sub of command.commands) configure(sub, [...parents, command.name()]);
}
