// Builds guest programs (smss.exe and friends) on the host with Node alone: esbuild bundles the TypeScript
// entry into one ES module, the committed x86_64 build of the same QuickJS sources compiles it to bytecode
// (this project's machines run 64-bit user code only, so the i386 runtime cannot run here), and the
// program file is the i386 runtime followed by that bytecode and a trailer. Node-only.
//
// Program file layouts (read back by guest/native/runtime.c):
//   self-contained (smss.exe, which runs before binfmt_misc knows the shared runtime):
//     runtime bytes | bytecode | u32 LE bytecode length | u32 LE CRC-32 of bytecode | "S86QJSB1"
//   for the shared runtime (C:\Windows\System32\qjs.exe, started by the kernel's binfmt_misc):
//     "S86QJSX1" | u32 LE bytecode length | u32 LE CRC-32 of bytecode | bytecode
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { REPO_ROOT } from "../emulator/node.ts";
import { SHARED_PROGRAM_MAGIC } from "../src/programs/index.ts";

const execFileAsync = promisify(execFile);

export const runtimePath = join(REPO_ROOT, "images", "prebuilt", "qjs-runtime");
/** The same C sources as the runtime, built for the host: only its --compile mode is used. */
export const compilerPath = join(REPO_ROOT, "images", "prebuilt", "qjs-compiler");
const bytecodeCacheDir = join(REPO_ROOT, "build", "guest-bytecode");
let partialCount = 0;

export const TRAILER_MAGIC = "S86QJSB1";
export const TRAILER_SIZE = 16;
const SHARED_HEADER_SIZE = 16;

/** A guest program could not be bundled or compiled; the message says which entry and why. */
export class GuestBuildError extends Error {
  override name = "GuestBuildError";
}

export interface GuestBuildOptions {
  /** Minified bundles make smaller bytecode; unminified ones keep readable names in stack traces. */
  minify?: boolean;
  /** "system": only the bytecode, run by the system's shared runtime (qjs.exe); default "embedded": the runtime in the file. */
  runtime?: "embedded" | "system";
}

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? (value >>> 1) ^ 0xedb88320 : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** runtime | bytecode | trailer: the bytes of a guest program file. */
export function linkGuestProgram(runtime: Uint8Array, bytecode: Uint8Array): Uint8Array {
  const program = new Uint8Array(runtime.length + bytecode.length + TRAILER_SIZE);
  program.set(runtime, 0);
  program.set(bytecode, runtime.length);
  const trailer = new DataView(program.buffer, runtime.length + bytecode.length, TRAILER_SIZE);
  trailer.setUint32(0, bytecode.length, true);
  trailer.setUint32(4, crc32(bytecode), true);
  for (let index = 0; index < TRAILER_MAGIC.length; index++) trailer.setUint8(8 + index, TRAILER_MAGIC.charCodeAt(index));
  return program;
}

/** header | bytecode: a program the shared runtime runs. */
export function linkSharedProgram(bytecode: Uint8Array): Uint8Array {
  const program = new Uint8Array(SHARED_HEADER_SIZE + bytecode.length);
  for (let index = 0; index < SHARED_PROGRAM_MAGIC.length; index++) program[index] = SHARED_PROGRAM_MAGIC.charCodeAt(index);
  const header = new DataView(program.buffer, 0, SHARED_HEADER_SIZE);
  header.setUint32(8, bytecode.length, true);
  header.setUint32(12, crc32(bytecode), true);
  program.set(bytecode, SHARED_HEADER_SIZE);
  return program;
}

export async function bundleGuestModule(entry: string, options: GuestBuildOptions = {}): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      target: "es2022",
      platform: "neutral",
      external: ["sys"],
      minify: options.minify ?? false,
      write: false,
      logLevel: "silent",
      legalComments: "none",
    });
    return result.outputFiles[0].text;
  } catch (error) {
    throw new GuestBuildError(`cannot bundle guest program ${entry}: ${(error as Error).message}`);
  }
}

/**
 * Compiles one ES module to QuickJS bytecode with the host compiler's --compile mode. The module is named
 * moduleName in stack traces. Results are cached under build/ by compiler, name and source.
 */
export async function compileGuestModule(source: string, moduleName: string): Promise<Uint8Array> {
  const compiler = await readFile(compilerPath);
  const key = createHash("sha256").update(compiler).update("\0").update(moduleName).update("\0").update(source).digest("hex");
  const cached = join(bytecodeCacheDir, `${key}.qbc`);
  try {
    return new Uint8Array(await readFile(cached));
  } catch {
    // Not cached yet.
  }
  const workDir = await mkdtemp(join(tmpdir(), "smss86-guest-"));
  try {
    const sourcePath = join(workDir, moduleName);
    const bytecodePath = join(workDir, "module.qbc");
    await writeFile(sourcePath, source);
    try {
      await execFileAsync(compilerPath, ["--compile", sourcePath, bytecodePath]);
    } catch (error) {
      const { stderr, code } = error as { stderr?: string; code?: number | string };
      throw new GuestBuildError(`cannot compile ${moduleName} to bytecode (runtime exit ${code}): ${stderr?.trim() || (error as Error).message}`);
    }
    const bytecode = new Uint8Array(await readFile(bytecodePath));
    // Written under a unique name and renamed: parallel test workers, and concurrent builds in one process,
    // may build the same program.
    await mkdir(bytecodeCacheDir, { recursive: true });
    const partial = join(bytecodeCacheDir, `${key}.${process.pid}.${++partialCount}.partial`);
    await writeFile(partial, bytecode);
    await rename(partial, cached);
    return bytecode;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Bundles the guest TypeScript entry, compiles it and returns the program file's bytes; writes them to
 * outFile (executable) when given.
 */
export async function buildGuestProgram(entry: string, outFile?: string, options: GuestBuildOptions = {}): Promise<Uint8Array> {
  const source = await bundleGuestModule(entry, options);
  const moduleName = `${basename(entry, extname(entry))}.js`;
  const bytecode = await compileGuestModule(source, moduleName);
  const program = options.runtime === "system" ? linkSharedProgram(bytecode) : linkGuestProgram(new Uint8Array(await readFile(runtimePath)), bytecode);
  if (outFile) {
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, program, { mode: 0o755 });
  }
  return program;
}
