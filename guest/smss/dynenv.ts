// Phase "dynamic-environment": the variables smss itself writes into Session Manager\Environment, from the
// processor the kernel found (/proc/cpuinfo), committed crash-safely; a failure is fatal, as in Windows.
import * as sys from "sys";
import type { Environment } from "../../src/config/environment.ts";
import type { DynamicEnvironmentData } from "../../src/events/index.ts";
import { decodeLatin1, encodeString, REG_SZ } from "../../src/hive/index.ts";
import type { SystemHive } from "./hive.ts";

export function writeDynamicEnvironment(system: SystemHive, environment: Environment): DynamicEnvironmentData {
  const cpuinfo = decodeLatin1(sys.readFile("/proc/cpuinfo"));
  // "name<TAB>: value" lines, a block per processor: the first block describes the CPU, the count is the number.
  const first = new Map<string, string>();
  let processors = 0;
  for (const line of cpuinfo.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === "processor") processors++;
    if (processors === 1 && !first.has(name)) first.set(name, line.slice(colon + 1).trim());
  }
  const family = Number(first.get("cpu family") ?? 0);
  const model = Number(first.get("model") ?? 0);
  const stepping = Number(first.get("stepping") ?? 0);
  const vendor = first.get("vendor_id") ?? "Unknown";
  const written = [
    { name: "OS", value: "Windows_NT" },
    { name: "PROCESSOR_ARCHITECTURE", value: "x86" },
    { name: "PROCESSOR_LEVEL", value: String(family) },
    { name: "PROCESSOR_IDENTIFIER", value: `x86 Family ${family} Model ${model} Stepping ${stepping}, ${vendor}` },
    { name: "PROCESSOR_REVISION", value: ((model << 8) | stepping).toString(16).padStart(4, "0") },
    { name: "NUMBER_OF_PROCESSORS", value: String(Math.max(1, processors)) },
  ];
  const key = system.sessionManager.key.subkey("Environment") ?? system.sessionManager.key.createSubkey("Environment");
  for (const { name, value } of written) {
    const stored = key.value(name);
    // Unchanged values are left alone, so a boot on the same machine has nothing to commit.
    if (stored?.type !== REG_SZ || stored.asString() !== value) key.setValue(name, REG_SZ, encodeString(value));
    environment.set(name, value);
  }
  system.commit();
  return { written };
}
