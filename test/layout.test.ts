// Code meant to run outside Node imports none of Node's modules: src/ (shared with the guest's QuickJS and
// the browser) and the browser-side host (Machine, the disk library). Bundling it for the browser, with v86
// left to the page, proves it: esbuild refuses any Node module there.
import { build } from "esbuild";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../emulator/node.ts";

const BROWSER_ENTRIES = [
  "src/cmd/format.ts",
  "src/events/index.ts",
  "src/hive/index.ts",
  "src/ntpath/index.ts",
  "src/regtext/index.ts",
  "src/sam/index.ts",
  "emulator/machine.ts",
  "emulator/disk/image.ts",
  "emulator/timeline.ts",
  "emulator/snapshot.ts",
  "emulator/serial-log.ts",
  "emulator/web/page.ts",
];

it("bundles src/ and the browser-side host for the browser, without Node's modules", async () => {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: BROWSER_ENTRIES,
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    outdir: "out",
    external: ["v86"],
    logLevel: "silent",
    metafile: true,
  });
  expect(result.errors).toEqual([]);
  expect(result.outputFiles).toHaveLength(BROWSER_ENTRIES.length);
  expect(Object.keys(result.metafile.inputs)).toContain("src/fat/fat.ts");
});
