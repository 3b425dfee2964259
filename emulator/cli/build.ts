// `smss86 build`: the default disk image from the sources (Node only).
import { Command, Option } from "commander";
import { action, fileName, writeStdoutSync, type Settle } from "./common.ts";

export function declareBuild(program: Command, settle: Settle): void {
  program
    .command("build")
    .summary("build the default disk image, or verify the one there")
    .description(
      "build the default disk image from the sources, or check that the one there is still what was built " +
        "(an image changed since, or built from other sources, is built again); prints its path",
    )
    .addOption(new Option("--out <FILE>", "where to write the image (default: build/disk.img in the checkout)").argParser(fileName("--out")))
    .action(action("smss86 build", settle, build));
}

async function build(options: { out?: string }): Promise<number> {
  const { ensureDefaultDisk } = await import("../../images/disk.ts");
  const file = await ensureDefaultDisk({ out: options.out, log: (line) => process.stderr.write(line + "\n") });
  writeStdoutSync(file + "\n");
  return 0;
}
