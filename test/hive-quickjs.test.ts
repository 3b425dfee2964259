// The hive library inside the guest's own QuickJS runtime, in the emulated PC: a read-modify-write with a
// crash-safe commit on the guest's FAT volume, checked afterwards by hivex and libregf, and a .reg export
// equal to Node's.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildHive } from "../images/disk.ts";
import { buildGuestProgram } from "../images/guest.ts";
import { Hive } from "../src/hive/index.ts";
import { exportReg } from "../src/regtext/index.ts";
import { readGuestFile, runInGuest } from "./guest-run.ts";

it("reads, changes, commits and exports the default SYSTEM hive under QuickJS", async () => {
  const regFile = join(REPO_ROOT, "images", "hives", "SYSTEM.reg");
  const run = await runInGuest(
    {
      "/t/hive-rmw.exe": await buildGuestProgram(join(REPO_ROOT, "test", "guest", "hive-rmw.ts")),
      "/t/SYSTEM": buildHive(readFileSync(regFile), regFile),
    },
    [{ argv: ["/t/hive-rmw.exe", "/t/SYSTEM", "/t/exported"] }],
  );
  expect(run.results[0]).toMatchObject({ code: 0, stderr: "" });
  const output = JSON.parse(run.results[0].stdout);
  expect(output.current).toBe(1);
  expect(output.path).toMatch(/%SystemRoot%\\system32/i);
  expect(output.keys).toContain("Software");

  const dir = mkdtempSync(join(tmpdir(), "smss86-hive-qjs-"));
  const hiveFile = join(dir, "SYSTEM");
  writeFileSync(hiveFile, readGuestFile(run, "/t/SYSTEM"));
  const envKey = "\\ControlSet001\\Control\\Session Manager\\Environment";
  expect(execFileSync("hivexget", [hiveFile, envKey, "SMSS86_WRITTEN_BY"]).toString().trim()).toBe("QuickJS");
  const reopened = Hive.open(readFileSync(hiveFile));
  expect(reopened.dirtyState).toBe("clean");
  const big = reopened.key("Software\\smss86\\Written")!.value("Big")!.data;
  expect(big.length).toBe(40_000);
  expect(big[12345]).toBe((12345 * 7) & 0xff);
  // libregf is strict about big-data cells; a clean export means the db structure is right.
  execFileSync("regfexport", [hiveFile], { stdio: "pipe" });
  // The commit wrote its log first: LOG1 exists beside the hive.
  expect(readGuestFile(run, "/t/SYSTEM.LOG1").length).toBeGreaterThan(512);
  // The same .reg text as Node makes from the hive committed there, in both encodings.
  expect(Buffer.from(exportReg(reopened, "")).equals(Buffer.from(readGuestFile(run, "/t/exported.utf16.reg")))).toBe(true);
  expect(Buffer.from(exportReg(reopened, "", { encoding: "utf-8" })).equals(Buffer.from(readGuestFile(run, "/t/exported.utf8.reg")))).toBe(true);
});
