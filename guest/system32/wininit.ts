// wininit.exe: the Windows start-up application of session 0 (Vista model). It marks itself critical (its
// end stops the machine: STOP 0xEF), starts the Service Control Manager (services.exe) and the Local
// Security Authority (lsass.exe), and stays, reaping and reporting them, until the machine goes down.
// They start at a lower scheduling priority: the guest has one CPU, and the console session's csrss and
// winlogon, starting at the same time, are what the user waits for (lsass is needed only once a user
// types a name; before it is up winlogon waits for its port).
import * as sys from "sys";
import { Children } from "../lib/children.ts";
import { markCritical } from "../lib/sm-client.ts";
import { startProcess } from "../lib/processes.ts";

const SYSTEM32 = "/Windows/System32";
/** The background's priority: nice 10 gets a tenth of the CPU's share of a normal process. */
const BACKGROUND_NICE = 10;

function main(): never {
  markCritical();
  const children = new Children();
  for (const name of ["services.exe", "lsass.exe"]) {
    const image = `${SYSTEM32}/${name}`;
    children.add(startProcess(image, [image], null, { nice: BACKGROUND_NICE }), image);
  }
  for (;;) {
    sys.poll([{ fd: children.fd, events: sys.POLLIN }], -1);
    children.reap();
  }
}

main();
