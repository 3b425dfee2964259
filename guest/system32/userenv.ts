// userenv.dll: what winlogon needs once a user has logged on, and only then: the user's environment block
// (CreateEnvironmentBlock: the system's variables and who and where the user is) and the Userinit programs
// from the SOFTWARE hive. A module winlogon imports at logon, as csrss imports its server DLLs: the hive
// library it carries is 3e6 guest instructions to load, which the logon prompt need not wait for.
import { Environment } from "../../src/config/environment.ts";
import { currentControlSet } from "../../src/config/values.ts";
import { userinitCommands } from "../../src/config/winlogon.ts";
import { openConfigHive } from "../lib/config-hive.ts";
import { findCommand } from "../lib/image-search.ts";

function computerName(): string {
  const hive = openConfigHive("SYSTEM");
  const value = hive.key(`${currentControlSet(hive)}\\Control\\ComputerName\\ComputerName`)?.value("ComputerName");
  return value?.asString() ?? "SMSS86";
}

/** The system's environment (`NAME=value` strings) and the user's own variables. */
export function createEnvironmentBlock(system: readonly string[], user: string): Environment {
  const computer = computerName();
  const result = Environment.fromEnvp(system);
  for (const [name, value] of [
    ["USERNAME", user],
    ["USERDOMAIN", computer],
    ["COMPUTERNAME", computer],
    ["USERPROFILE", `C:\\Users\\${user}`],
    ["HOMEDRIVE", "C:"],
    ["HOMEPATH", `\\Users\\${user}`],
    ["SESSIONNAME", "Console"],
  ]) {
    result.set(name, value);
  }
  return result;
}

/** Userinit's programs, found as smss finds an image; a missing one is named in `missing`. */
export function userinitPrograms(environment: Environment): { programs: { image: string; args: string[] }[]; missing: string[] } {
  const programs: { image: string; args: string[] }[] = [];
  const missing: string[] = [];
  for (const line of userinitCommands(openConfigHive("SOFTWARE"), environment)) {
    const { requested, image, args } = findCommand(line, environment);
    if (image === undefined) missing.push(requested);
    else programs.push({ image, args });
  }
  return { programs, missing };
}
