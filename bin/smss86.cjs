#!/usr/bin/env node
// The smss86 command. The TypeScript CLI runs as an esbuild bundle under build/cli/, made again whenever
// a source changes, so that start-up pays for no TypeScript loader (it would dominate short commands).
// CommonJS, this file and the bundle: Node starts a CommonJS program without its ES module loader, about
// 8 ms sooner (a twentieth of a hive export). The bundle runs from V8's code cache beside it once a run has
// left one there, which spares compiling it again (a few ms).
"use strict";
const { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { dirname, join } = require("node:path");
const { createHash } = require("node:crypto");
const { setFlagsFromString } = require("node:v8");
const vm = require("node:vm");

// Tuned for short CPU-bound runs (set before the bundle loads: V8's code cache records the flags).
// A larger young generation spares most scavenges (hive export of real/SYSTEM: 0.21 → 0.19 s). Inlining
// only small functions: a hive export or import runs for a tenth of a second, much of it waiting for
// V8's optimising compiler on its one background thread, and inlining every piece into every caller
// compiles the same code many times over (export 191 → 170 ms, import 400 → 369 ms, boot unchanged).
setFlagsFromString("--max-semi-space-size=64");
setFlagsFromString("--max-inlined-bytecode-size=100");

const root = join(__dirname, "..");
const SOURCE_DIRS = ["src", "emulator", "images"];

/** Newest modification time and count of the CLI's TypeScript sources: the bundle's cache key. */
function sourcesKey() {
  let newest = 0;
  let count = 0;
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".ts")) {
        newest = Math.max(newest, statSync(path).mtimeMs);
        count++;
      }
    }
  };
  for (const dir of SOURCE_DIRS) visit(join(root, dir));
  return `${Math.floor(newest)}-${count}`;
}

function bundledCli() {
  const outdir = join(root, "build", "cli", sourcesKey());
  const entry = join(outdir, "main.cjs");
  if (exists(entry)) return entry;
  const staging = `${outdir}.${process.pid}.tmp`;
  require("esbuild").buildSync({
    entryPoints: [join(root, "emulator", "cli", "main.ts")],
    outfile: join(staging, "main.cjs"),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    packages: "external",
    // The sources are ES modules that find files relative to themselves.
    banner: { js: 'const __moduleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__moduleUrl" },
    logLevel: "warning",
  });
  writeFileSync(join(staging, "main.cjs.sha256"), sha256(readFileSync(join(staging, "main.cjs"))));
  try {
    renameSync(staging, outdir);
  } catch {
    if (exists(entry)) {
      // Another smss86 process built the same sources first; its bundle is as good.
      rmSync(staging, { recursive: true, force: true });
    } else {
      // A bundle of an older layout of this directory is in the way.
      rmSync(outdir, { recursive: true, force: true });
      renameSync(staging, outdir);
    }
  }
  removeOlderBundles(dirname(outdir), outdir);
  return entry;
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Bundles of older sources; a process still running one has loaded all of it at start. */
function removeOlderBundles(parent, current) {
  for (const name of readdirSync(parent)) {
    const path = join(parent, name);
    if (path !== current && !name.endsWith(".tmp")) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Loads the bundle as require() would, from the code cache when there is a valid one. Returns its exports
 * and a function that writes the cache when there was none: called after a run, so that the cache also
 * holds the functions that run compiled (V8 compiles most of them only when first called).
 */
function loadBundle(entry) {
  const cacheFile = `${entry}.v8-cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet: this run leaves one.
  }
  const source = readFileSync(entry);
  if (sha256(source) !== readFileSync(`${entry}.sha256`, "utf8")) throw new Error(`${entry} is not the bundle that was built`);
  const script = new vm.Script(Module.wrap(source.toString("utf8")), { filename: entry, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(entry), module, entry, dirname(entry));
  const saveCache = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    try {
      const staging = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(staging, script.createCachedData());
      renameSync(staging, cacheFile);
    } catch {
      // A cache is only a speed-up; the bundle's directory may be read-only or gone.
    }
  };
  return { cli: module.exports, saveCache };
}

/**
 * The bundle, loaded; one that is not what was built (cut short or written over since: its hash says) or
 * that fails to load is made again once. Whatever still fails is one line on stderr, not a stack trace.
 */
function loadCli() {
  const entry = bundledCli();
  try {
    return loadBundle(entry);
  } catch {
    rmSync(dirname(entry), { recursive: true, force: true });
    return loadBundle(bundledCli());
  }
}

function fail(error) {
  process.stderr.write(`smss86: ${error instanceof Error ? error.message : String(error)}`.replace(/\s*\n\s*/g, " ") + "\n");
  process.exitCode = 1;
}

try {
  const { cli, saveCache } = loadCli();
  cli.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    saveCache();
  }, fail);
} catch (error) {
  fail(error);
}
