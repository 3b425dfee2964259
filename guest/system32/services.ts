// services.exe: the Service Control Manager. STUB: a later issue gives it its work (the Services key's
// groups, tags, dependencies and failure actions); here it starts, says so, and waits for the end of the
// machine without using the CPU.
import * as sys from "sys";
import { report } from "../lib/probe.ts";

report("services", "done", { pid: sys.getpid(), stub: true });
const signals = sys.signalfd([sys.SIGUSR1]);
for (;;) sys.poll([{ fd: signals, events: sys.POLLIN }], -1);
