// `smss86 build`: the default disk image from the sources (Node only).
import { parseArgs } from "node:util";
import { ensureDefaultDisk } from "../../images/disk.ts";

export async function buildCommand(argv: string[]): Promise<number> {
  let out: string | undefined;
  try {
    out = parseArgs({ args: argv, options: { out: { type: "string" } }, strict: true }).values.out;
  } catch (err) {
    process.stderr.write(`smss86 build: ${(err as Error).message}\n`);
    return 2;
  }
  const file = await ensureDefaultDisk({ out, log: (line) => process.stderr.write(line + "\n") });
  process.stdout.write(file + "\n");
  return 0;
}
