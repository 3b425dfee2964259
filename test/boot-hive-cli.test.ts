// `smss86 boot --hive`, `--hive-merge` and `--save-disk`, end to end through the command.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openVolume } from "../emulator/disk/image.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { SYSTEM_HIVE_ON_DISK } from "../emulator/scenario.ts";
import { buildHive } from "../images/disk.ts";
import { Hive } from "../src/hive/index.ts";
import { regFragment, SM } from "./scenario-helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "smss86-boot-hive-"));

function smss86(...args: string[]) {
  const result = spawnSync(process.execPath, ["bin/smss86.cjs", ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function variables(report: string): Record<string, string> {
  const events = JSON.parse(readFileSync(report, "utf8")).events as { phase: string; status: string; data?: { variables?: { name: string; value: string }[] } }[];
  const environment = events.find((e) => e.phase === "environment" && e.status === "done")!;
  return Object.fromEntries(environment.data!.variables!.map((v) => [v.name, v.value]));
}

/** A whole SYSTEM hive with only what smss needs to get through its first phases. */
const WHOLE_HIVE = regFragment(
  "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]",
  '"Current"=dword:00000001',
  "",
  `[${SM}]`,
  "",
  `[${SM}\\Environment]`,
  '"ONLY_IN_THIS_HIVE"="yes"',
);

describe("smss86 boot with another SYSTEM hive", () => {
  it("--hive-merge changes the default hive, and --save-disk keeps the disk as the guest left it", () => {
    const fragment = join(dir, "fragment.reg");
    writeFileSync(fragment, regFragment(`[${SM}\\Environment]`, '"MERGED"="from a fragment"'));
    const report = join(dir, "merge.json");
    const saved = join(dir, "saved.img");
    const run = smss86("boot", "--hive-merge", fragment, "--until", "environment", "--json", report, "--save-disk", saved, "--quiet");
    expect(run.status, run.stderr).toBe(0);
    const seen = variables(report);
    expect(seen.MERGED).toBe("from a fragment");
    expect(seen.ComSpec).toBe("C:\\Windows\\system32\\cmd.exe");
    const hive = Hive.open(openVolume(new Uint8Array(readFileSync(saved))).readFile(SYSTEM_HIVE_ON_DISK));
    expect(hive.key("ControlSet001\\Control\\Session Manager\\Environment")!.value("MERGED")!.asString()).toBe("from a fragment");
  });

  it("--hive takes a whole hive as .reg text or as a regf file", () => {
    const regText = join(dir, "whole.reg");
    writeFileSync(regText, WHOLE_HIVE);
    const regf = join(dir, "whole.hive");
    writeFileSync(regf, buildHive(new TextEncoder().encode(WHOLE_HIVE), "whole.reg"));
    for (const file of [regText, regf]) {
      const report = join(dir, "whole.json");
      const run = smss86("boot", "--hive", file, "--until", "environment", "--json", report, "--quiet");
      expect(run.status, run.stderr).toBe(0);
      const seen = variables(report);
      expect(seen.ONLY_IN_THIS_HIVE).toBe("yes");
      expect(seen.ComSpec).toBeUndefined();
    }
  });

  it("refuses both flags at once, a missing file and a broken .reg, each in one line", () => {
    const both = smss86("boot", "--hive", "a.reg", "--hive-merge", "b.reg");
    expect(both.status).toBe(2);
    const missing = smss86("boot", "--hive", join(dir, "nope.reg"), "--until", "ready");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.reg: no such hive/);
    const broken = join(dir, "broken.reg");
    writeFileSync(broken, "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\r\n");
    const bad = smss86("boot", "--hive-merge", broken, "--until", "ready");
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split("\n").filter((line) => !line.startsWith("[smss86]"))).toEqual([expect.stringMatching(/broken\.reg:3:\d+: /)]);
  });
});
