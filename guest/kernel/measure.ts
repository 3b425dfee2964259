// Boots a bzImage in v86 straight from Node and measures what the kernel costs up to the first line of a
// tiny static init (guest/kernel/measure-init.c): guest instructions and wall time since `new V86()`.
//
//   npx tsx guest/kernel/measure.ts [--root initrd|disk] [--cmdline "..."] [--memory MiB] [--runs N]
//                                   [--bzimage path] [--bios path] [--trace] [--initcalls System.map]
//                                   [--timeout s]
//
// --root initrd: v86's own bzImage loader with a cpio initrd holding /init. The loader puts the initrd at
//   physical 64 MiB, so memory must exceed 64 MiB plus the initrd (default 128 MiB).
// --root disk: an IDE disk with one FAT partition holding the init as \Windows\System32\smss.exe, mounted
//   as root like the real boot (default 32 MiB). The harness appends root=/init= parameters to --cmdline.
// --trace prints every console line with the instruction counter and wall time when it arrived.
// --initcalls <System.map> boots with `initcall_debug` (whose log lines cost time themselves) and lists
//   the kernel initcalls that cost the most instructions, named from the System.map of that bzImage
//   (after build.sh: /var/tmp/smss86-kernel/linux-source-6.1/System.map).
// The extra UARTs (v86 options uart1..uart3) are always on: the init greets ttyS1..ttyS3 and the harness
// checks that each greeting arrived on the matching `serialN-output-byte` event. It also checks syscalls
// the guest runtime needs (see measure-init.c) and exits non-zero when any check fails.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { V86 } from "v86";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const firstLineMarker = "smss86-measure-init: user space reached";
const doneMarker = "smss86-measure-init: done";
const extraSerialPorts = [1, 2, 3] as const;

class MeasureError extends Error {
  override name = "MeasureError";
}

interface BootResult {
  firstLine: { instructions: number; wallMs: number };
  done: { instructions: number; wallMs: number };
  // What arrived on each extra v86 serial port, keyed by port number.
  extraSerialOutput: Record<number, string>;
  // "check <name>=ok|<error>" lines of the init, and its "<name>=<value>" facts.
  initChecks: Record<string, string>;
  initFacts: Record<string, string>;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function readImage(path: string): ArrayBuffer {
  try {
    return toArrayBuffer(readFileSync(path));
  } catch (error) {
    throw new MeasureError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function buildInit(workDir: string): Uint8Array {
  const source = join(repo, "guest/kernel/measure-init.c");
  const output = join(workDir, "measure-init");
  execFileSync("gcc", ["-m32", "-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o", output, source], {
    stdio: "inherit",
  });
  return readFileSync(output);
}

// SVR4 "newc" cpio: the format the kernel's initramfs unpacker reads.
function newcCpio(files: { name: string; mode: number; data: Uint8Array }[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    length += bytes.length;
    const padding = (4 - (length % 4)) % 4;
    if (padding) {
      chunks.push(new Uint8Array(padding));
      length += padding;
    }
  };
  const entries = [...files, { name: "TRAILER!!!", mode: 0, data: new Uint8Array(0) }];
  entries.forEach((file, index) => {
    const name = new TextEncoder().encode(file.name + "\0");
    const fields = [index + 1, file.mode, 0, 0, 1, 0, file.data.length, 0, 0, 0, 0, name.length, 0];
    const header = "070701" + fields.map((value) => value.toString(16).padStart(8, "0")).join("");
    const headerAndName = new Uint8Array(header.length + name.length);
    headerAndName.set(new TextEncoder().encode(header));
    headerAndName.set(name, header.length);
    push(headerAndName);
    push(file.data);
  });
  const archive = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    archive.set(chunk, offset);
    offset += chunk.length;
  }
  return archive;
}

// A disk laid out like the real boot disk: MBR, one active FAT partition at LBA 2048, an empty /dev for
// DEVTMPFS_MOUNT and the init where smss.exe lives.
function buildDisk(workDir: string): Uint8Array {
  const sectorBytes = 512;
  const partitionStart = 2048;
  const partitionMiB = 16;
  const partitionPath = join(workDir, "partition.img");
  execFileSync("mkfs.fat", ["-C", "-F", "16", "-n", "SMSS86", partitionPath, String(partitionMiB * 1024)], {
    stdio: "ignore",
  });
  const mtools = (...args: string[]) => execFileSync(args[0], ["-i", partitionPath, ...args.slice(1)]);
  mtools("mmd", "::/dev", "::/Windows", "::/Windows/System32");
  mtools("mcopy", join(workDir, "measure-init"), "::/Windows/System32/smss.exe");
  const partition = readFileSync(partitionPath);
  const disk = new Uint8Array(partitionStart * sectorBytes + partition.length);
  disk.set(partition, partitionStart * sectorBytes);
  const entry = new DataView(disk.buffer, 446, 16);
  entry.setUint8(0, 0x80);
  entry.setUint8(4, 0x0e); // FAT16, LBA addressed
  entry.setUint32(8, partitionStart, true);
  entry.setUint32(12, partition.length / sectorBytes, true);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return disk;
}

// Kernel text symbols sorted by address, from the System.map of the bzImage being measured.
class SymbolMap {
  private readonly addresses: number[] = [];
  private readonly names: string[] = [];

  constructor(path: string) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new MeasureError(`cannot read ${path}: ${(error as Error).message}`);
    }
    const entries: [number, string][] = [];
    for (const line of text.split("\n")) {
      const [address, type, name] = line.split(" ");
      if (name && /^[tTwW]$/.test(type)) entries.push([parseInt(address, 16), name]);
    }
    if (entries.length === 0) throw new MeasureError(`${path} holds no text symbols: not a System.map?`);
    entries.sort((a, b) => a[0] - b[0]);
    for (const [address, name] of entries) {
      this.addresses.push(address);
      this.names.push(name);
    }
  }

  nameOf(address: number): string {
    if (address < this.addresses[0]) return `0x${address.toString(16)}`;
    let low = 0;
    let high = this.addresses.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.addresses[middle] <= address) low = middle;
      else high = middle - 1;
    }
    return this.names[low];
  }
}

// With `initcall_debug` the kernel logs "calling  0x<fn> @ 1" and "initcall 0x<fn> returned ..." around
// every initcall; the instruction counter and wall clock at those two lines give each initcall's cost.
class InitcallCosts {
  private readonly costs = new Map<string, { instructions: number; wallMs: number }>();
  private current: { name: string; instructions: number; wallMs: number } | undefined;

  constructor(private readonly symbols: SymbolMap) {}

  observe(line: string, instructions: number, wallMs: number) {
    const calling = /calling {2}0x([0-9a-f]+) @/.exec(line);
    if (calling) {
      this.current = { name: this.symbols.nameOf(parseInt(calling[1], 16)), instructions, wallMs };
      return;
    }
    if (this.current && /initcall 0x[0-9a-f]+ returned/.test(line)) {
      const cost = this.costs.get(this.current.name) ?? { instructions: 0, wallMs: 0 };
      cost.instructions += instructions - this.current.instructions;
      cost.wallMs += wallMs - this.current.wallMs;
      this.costs.set(this.current.name, cost);
      this.current = undefined;
    }
  }

  report(limit: number) {
    const sorted = [...this.costs].sort((a, b) => b[1].instructions - a[1].instructions);
    const total = sorted.reduce((sum, [, cost]) => sum + cost.instructions, 0);
    console.log(`initcalls: ${sorted.length} ran, ${(total / 1e6).toFixed(1)}M instructions in all; the costliest:`);
    for (const [name, cost] of sorted.slice(0, limit)) {
      console.log(`  ${(cost.instructions / 1e6).toFixed(2).padStart(6)}M ${cost.wallMs.toFixed(0).padStart(5)} ms  ${name}`);
    }
  }
}

async function bootOnce(
  options: ConstructorParameters<typeof V86>[0],
  trace: boolean,
  timeoutMs: number,
  initcalls: InitcallCosts | undefined,
) {
  const started = performance.now();
  const emulator = new V86(options);
  const consoleLines: string[] = [];
  const extraSerialOutput: Record<number, string> = {};
  let line = "";
  let firstLine: BootResult["firstLine"] | undefined;

  const result = await new Promise<BootResult>((resolveBoot, rejectBoot) => {
    const timer = setTimeout(() => {
      rejectBoot(
        new MeasureError(
          `no "${doneMarker}" within ${timeoutMs / 1000} s; last console lines:\n` + consoleLines.slice(-15).join("\n"),
        ),
      );
    }, timeoutMs);
    emulator.add_listener("serial0-output-byte", (byte: number) => {
      if (byte !== 0x0a) {
        if (byte !== 0x0d) line += String.fromCharCode(byte);
        return;
      }
      const instructions = emulator.get_instruction_counter();
      const wallMs = performance.now() - started;
      consoleLines.push(line);
      initcalls?.observe(line, instructions, wallMs);
      if (trace) console.log(`${(instructions / 1e6).toFixed(1).padStart(8)}M ${wallMs.toFixed(0).padStart(6)}ms | ${line}`);
      if (line.includes(firstLineMarker)) firstLine = { instructions, wallMs };
      if (line.includes(doneMarker)) {
        clearTimeout(timer);
        if (!firstLine) {
          rejectBoot(new MeasureError(`"${doneMarker}" arrived before "${firstLineMarker}"`));
          return;
        }
        const initChecks: Record<string, string> = {};
        const initFacts: Record<string, string> = {};
        for (const consoleLine of consoleLines) {
          const check = /^check (\S+)=(.*)$/.exec(consoleLine);
          const fact = /^([A-Za-z0-9-]+)=(.*)$/.exec(consoleLine);
          if (check) initChecks[check[1]] = check[2];
          else if (fact) initFacts[fact[1]] = fact[2];
        }
        resolveBoot({ firstLine, done: { instructions, wallMs }, extraSerialOutput, initChecks, initFacts });
      }
      line = "";
    });
    for (const port of extraSerialPorts) {
      extraSerialOutput[port] = "";
      emulator.add_listener(`serial${port}-output-byte`, (byte: number) => {
        extraSerialOutput[port] += String.fromCharCode(byte);
      });
    }
  }).finally(() => emulator.destroy());
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const { values } = parseArgs({
    options: {
      root: { type: "string", default: "initrd" },
      cmdline: { type: "string", default: "console=ttyS0" },
      memory: { type: "string" },
      runs: { type: "string", default: "3" },
      bzimage: { type: "string", default: join(repo, "images/prebuilt/bzImage") },
      bios: { type: "string", default: join(repo, "images/prebuilt/seabios.bin") },
      trace: { type: "boolean", default: false },
      initcalls: { type: "string" },
      timeout: { type: "string", default: "60" },
    },
  });
  const root = values.root;
  if (root !== "initrd" && root !== "disk") throw new MeasureError(`--root must be initrd or disk, not "${root}"`);
  const memoryMiB = Number(values.memory ?? (root === "initrd" ? 128 : 32));
  const runs = Number(values.runs);
  const timeoutSeconds = Number(values.timeout);
  for (const [name, value] of [["--memory", memoryMiB], ["--runs", runs], ["--timeout", timeoutSeconds]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new MeasureError(`${name} must be a positive integer, not ${value}`);
  }

  const workDir = mkdtempSync(join(tmpdir(), "smss86-measure-"));
  try {
    const init = buildInit(workDir);
    const symbols = values.initcalls === undefined ? undefined : new SymbolMap(values.initcalls);
    const requireFromHere = createRequire(import.meta.url);
    const options: ConstructorParameters<typeof V86>[0] = {
      wasm_path: requireFromHere.resolve("v86/build/v86.wasm"),
      memory_size: memoryMiB * 1024 * 1024,
      bios: { buffer: readImage(values.bios) },
      vga_bios: { buffer: readImage(join(repo, "images/prebuilt/vgabios.bin")) },
      bzimage: { buffer: readImage(values.bzimage) },
      autostart: true,
      disable_speaker: true,
      disable_keyboard: true,
      disable_mouse: true,
      uart1: true,
      uart2: true,
      uart3: true,
    };
    let cmdline = values.cmdline;
    let disk: Uint8Array | undefined;
    if (root === "initrd") {
      options.initrd = { buffer: toArrayBuffer(newcCpio([{ name: "init", mode: 0o100755, data: init }])) };
    } else {
      disk = buildDisk(workDir);
      cmdline += " root=/dev/sda1 rootfstype=vfat rw init=/Windows/System32/smss.exe";
    }
    if (symbols) cmdline += " initcall_debug ignore_loglevel";
    options.cmdline = cmdline;
    console.log(`bzImage ${values.bzimage} (${readFileSync(values.bzimage).length} bytes), root=${root}, ${memoryMiB} MiB`);
    console.log(`cmdline: ${cmdline}`);

    const results: BootResult[] = [];
    for (let run = 1; run <= runs; run++) {
      // The guest writes to its disk in place (mounting sets the FAT dirty bit): every run gets a pristine copy.
      if (disk) options.hda = { buffer: toArrayBuffer(disk) };
      const initcalls = symbols && new InitcallCosts(symbols);
      const result = await bootOnce(options, values.trace, timeoutSeconds * 1000, initcalls);
      results.push(result);
      initcalls?.report(15);
      console.log(
        `run ${run}: first init line at ${(result.firstLine.instructions / 1e6).toFixed(1)}M instructions, ` +
          `${result.firstLine.wallMs.toFixed(0)} ms; init done at ${(result.done.instructions / 1e6).toFixed(1)}M, ` +
          `${result.done.wallMs.toFixed(0)} ms; guest uptime/idle ${result.initFacts.uptime ?? "?"} s`,
      );
    }
    const last = results[results.length - 1];
    const failures = Object.entries(last.initChecks)
      .filter(([, outcome]) => outcome !== "ok")
      .map(([name, outcome]) => `${name}: ${outcome}`);
    for (const port of extraSerialPorts) {
      const greeting = last.extraSerialOutput[port].trim();
      console.log(`serial${port}-output-byte: ${greeting ? JSON.stringify(greeting) : "(nothing)"}`);
      if (!greeting.includes(`hello on ttyS${port}`)) failures.push(`ttyS${port} greeting did not arrive on serial${port}-output-byte`);
    }
    console.log(`init checks: ${Object.keys(last.initChecks).join(", ")}`);
    for (const [name, value] of Object.entries(last.initFacts)) console.log(`init ${name}: ${value}`);
    const summary = {
      instructions: median(results.map((result) => result.firstLine.instructions)),
      wallMs: Math.round(median(results.map((result) => result.firstLine.wallMs))),
      wallMsMin: Math.round(Math.min(...results.map((result) => result.firstLine.wallMs))),
      runs,
    };
    console.log(`median to first init line: ${JSON.stringify(summary)}`);
    if (failures.length > 0) throw new MeasureError(`the guest is missing what smss needs:\n  ${failures.join("\n  ")}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof MeasureError ? `measure: ${error.message}` : error);
  process.exit(1);
});
