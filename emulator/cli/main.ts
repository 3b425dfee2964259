// `smss86`: one entry point, a subcommand each, loaded only when it runs. Each returns its exit code.
const USAGE = `usage: smss86 <command> [options]

commands:
  boot [--until EVENT] [--json FILE] [--disk FILE] [--timeout S] [--memory MIB] [--jit] [--quiet]
       [--timeline FILE.svg|.html]
                     boot the machine headless; the guest console is on stdout (Ctrl-] quits)
  build [--out FILE] build the default disk image (build/disk.img) from the sources
  hive export|import|get|check ...
                     read and write registry hives (run 'smss86 hive' for details)
  web [--port N]     serve the machine as a web page on localhost (default port 8086)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "boot":
      return (await import("./boot.ts")).bootCommand(rest);
    case "build":
      return (await import("./build.ts")).buildCommand(rest);
    case "hive":
      return (await import("./hive.ts")).hiveCommand(rest);
    case "web":
      return (await import("./web.ts")).webCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`smss86: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
