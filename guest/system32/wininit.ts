// wininit.exe: the Windows start-up application of session 0 (Vista model). It marks itself critical (its
// end stops the machine: STOP 0xEF), starts the Service Control Manager (services.exe) and the Local
// Security Authority (lsass.exe), and stays, reaping and reporting them, until the machine goes down.
import * as sys from "sys";
import { Children } from "../lib/children.ts";
import { markCritical } from "../lib/sm-client.ts";
import { startProcess } from "../lib/processes.ts";

const SYSTEM32 = "/Windows/System32";

function main(): never {
  markCritical();
  const children = new Children();
  for (const name of ["services.exe", "lsass.exe"]) {
    const image = `${SYSTEM32}/${name}`;
    children.add(startProcess(image, [image], null), image);
  }
  for (;;) {
    sys.poll([{ fd: children.fd, events: sys.POLLIN }], -1);
    children.reap();
  }
}

main();
