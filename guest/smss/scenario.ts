// Test machinery, not part of Windows' smss. With smss86.scenario-point on the kernel command line, smss
// stops just before it reads the SYSTEM hive, says so on the probe line and waits for one byte there. The
// host saves the machine in that state once; for each scenario it restores the state with the scenario's
// disk in place of the one booted and sends the byte (emulator/scenario-point.ts). Whatever the kernel has
// cached of that disk's files must still hold on the new disk, and the host checks that before it swaps;
// what the kernel caches of the volume's own blocks (the FAT, directories) is dropped here, so every read
// from now on sees the new disk.
import * as sys from "sys";
import { SCENARIO_GO_BYTE } from "../../src/events/index.ts";
import { phase } from "../lib/probe.ts";
import { rootBlockDevice } from "./namespace.ts";

const PROBE_LINE = "/dev/ttyS1";

export function holdAtScenarioPoint(): void {
  const line = sys.open(PROBE_LINE, sys.O_RDWR | sys.O_NOCTTY, 0);
  // The byte must not be echoed back onto the probe line, nor wait for a newline.
  sys.setTerminalMode(line, false, false);
  const bootDevice = rootBlockDevice();
  phase("scenario-point", () => {
    for (;;) {
      const bytes = sys.read(line, 1);
      if (bytes.length === 1 && bytes[0] === SCENARIO_GO_BYTE) break;
    }
    sys.flushBlockDevice(bootDevice);
    return { bootDevice };
  });
  sys.close(line);
}
