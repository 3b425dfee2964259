// A BootExecute program for scenario tests: reports its argv, environment, pid and parent on the probe
// channel, then exits with the code given as its first argument (0 if none).
import * as sys from "sys";
import { report } from "../../guest/lib/probe.ts";

report("test-program" as never, "done", { argv: sys.argv, environ: sys.environ(), pid: sys.getpid(), ppid: sys.getppid() });
sys.exit(Number(sys.argv[1] ?? 0));
