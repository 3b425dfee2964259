// autochk.exe: checks the FAT volumes at boot, as BootExecute's `autocheck autochk *` asks. `*` means every
// volume; otherwise the arguments name volumes (C: or \??\C:). A volume is checked only when its dirty bit
// says it was not unmounted cleanly, and then repaired (src/fat's check: the one FAT implementation the
// host's disk tools use too), each finding and fix printed and reported on the probe channel.
// Exit status: 0, or 3 when the boot volume was repaired beyond its dirty bit: the running kernel may hold
// stale state of it, so smss restarts the machine, as Windows does after fixing the system volume.
import * as sys from "sys";
import { deviceNumbers, GuestBlockDevice } from "../lib/block-device.ts";
import { report } from "../lib/probe.ts";
import { CachedDeviceBytes } from "../../src/fat/bytes.ts";
import { FatError, FatVolume } from "../../src/fat/fat.ts";
import type { AutochkData } from "../../src/events/index.ts";

const GLOBAL = "/NT/GLOBAL??";
const RESTART_NEEDED = 3;

interface VolumeToCheck {
  name: string;
  raw: string;
}

function say(line: string): void {
  sys.write(1, line + "\n");
}

function volumes(): VolumeToCheck[] {
  const entries = sys.readdir(GLOBAL);
  const letterOf = new Map<string, string>();
  for (const name of entries) if (/^[A-Z]:$/.test(name)) letterOf.set(sys.readlink(`${GLOBAL}/${name}`), name);
  const found: VolumeToCheck[] = [];
  for (const name of entries) {
    const match = /^Harddisk(\d+)Partition(\d+)$/.exec(name);
    if (!match) continue;
    const volume = sys.readlink(`${GLOBAL}/${name}`);
    found.push({ name: letterOf.get(volume) ?? volume, raw: `/NT/Device/Harddisk${match[1]}/Partition${match[2]}` });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

function isBootVolume(raw: string): boolean {
  const device = sys.stat(raw);
  const root = deviceNumbers(sys.stat("/").dev);
  return device.rdevMajor === root.major && device.rdevMinor === root.minor;
}

function checkVolume(volume: VolumeToCheck): { data: AutochkData; restartNeeded: boolean } {
  const device = GuestBlockDevice.open(volume.raw, true);
  const data: AutochkData = { volume: volume.name, blockDevice: sys.readlink(volume.raw), dirty: false, checked: false, findings: [] };
  try {
    const store = new CachedDeviceBytes(device);
    const fat = FatVolume.open(store);
    data.dirty = fat.dirty;
    if (!fat.dirty) return { data, restartNeeded: false };
    say(`autochk: checking the file system on ${volume.name} (FAT${fat.type}): it was not shut down cleanly.`);
    const result = fat.check({ repair: true });
    store.flush();
    data.checked = true;
    data.findings = result.findings;
    for (const finding of result.findings) say(`autochk: ${volume.name}${finding.path ?? ""}: ${finding.detail}: ${finding.fixed}`);
    say(`autochk: ${volume.name}: ${result.entries} files and directories, ${result.clustersInUse} clusters in use, ${result.findings.length} problems fixed.`);
    const repairedBeyondDirtyBit = result.findings.some((finding) => finding.kind !== "dirty");
    return { data, restartNeeded: repairedBeyondDirtyBit && isBootVolume(volume.raw) };
  } finally {
    device.close();
  }
}

// The start of the whole run, so that a timeline can draw autochk's span; each volume then reports done.
report("autochk", "start", { pid: sys.getpid(), args: sys.argv.slice(1) });
let restartNeeded = false;
const wanted = sys.argv.slice(1).map((arg) => arg.replace(/^\\\?\?\\/, "").toUpperCase());
for (const volume of volumes()) {
  if (!wanted.includes("*") && !wanted.includes(volume.name.toUpperCase())) continue;
  try {
    const result = checkVolume(volume);
    restartNeeded ||= result.restartNeeded;
    report("autochk", "done", result.data);
  } catch (error) {
    if (!(error instanceof FatError || error instanceof sys.SysError)) throw error;
    say(`autochk: ${volume.name}: cannot check: ${error.message}`);
    report("autochk", "failed", { volume: volume.name, error: error.message });
  }
}
sys.exit(restartNeeded ? RESTART_NEEDED : 0);
