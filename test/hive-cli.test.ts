// `smss86 hive` as a user runs it: node bin/smss86.cjs hive ..., checked against hivexget / hivexregedit.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Hive } from "../src/hive/index.ts";
import { exportReg } from "../src/regtext/index.ts";
import { edgeDir, hivexDump, repoRoot, tempDir } from "./hive-helpers.ts";

const SYSTEM_REG = join(repoRoot, "images/hives/SYSTEM.reg");

function smss86(...args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const run = spawnSync(process.execPath, [join(repoRoot, "bin/smss86.cjs"), "hive", ...args], {
    cwd: repoRoot,
    maxBuffer: 1 << 30,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString() };
}

function hivexget(hive: string, key: string, value: string): string {
  return spawnSync("hivexget", [hive, key, value], { encoding: "utf8" }).stdout;
}

/** A fresh directory per test, so leftover temporary files can be seen. */
function scratch(): string {
  return mkdtempSync(join(tempDir(), "cli-"));
}

function builtSystem(dir: string): string {
  const hive = join(dir, "SYSTEM");
  expect(smss86("import", SYSTEM_REG, hive).status).toBe(0);
  return hive;
}

describe("smss86 hive", () => {
  it("answers usage errors with exit code 2 and one line on stderr", () => {
    for (const args of [["frobnicate"], ["export"], ["import", "only-one"], ["get", "a", "b", "c", "d"], ["check", "x", "--bogus"]]) {
      const run = smss86(...args);
      expect(run.status, args.join(" ")).toBe(2);
      expect(run.stderr.trimEnd().split("\n"), args.join(" ")).toHaveLength(1);
    }
    expect(smss86().status).toBe(2);
    expect(smss86("help").stdout.toString()).toMatch(/export \[options\] <HIVE> \[KEY\]/);
  });

  it("imports a .reg into a new hive that hivexget and libregf read", () => {
    const dir = scratch();
    const hive = builtSystem(dir);
    expect(hivexget(hive, "\\ControlSet001\\Control\\Session Manager", "BootExecute")).toBe("autocheck autochk *\n\n");
    expect(hivexget(hive, "\\Select", "Current")).toBe("1\n");
    const regfinfo = spawnSync("regfinfo", [hive], { encoding: "utf8" });
    expect(regfinfo.status).toBe(0);
    expect(readdirSync(dir)).toEqual(["SYSTEM"]);
  });

  it("exports UTF-16LE with a BOM like regedit, UTF-8 with --utf8, a subtree, under --prefix", () => {
    const hive = builtSystem(scratch());
    const wide = smss86("export", hive);
    expect(wide.status).toBe(0);
    expect(wide.stdout.equals(exportReg(Hive.open(readFileSync(hive)), ""))).toBe(true);
    expect([...wide.stdout.subarray(0, 4)]).toEqual([0xff, 0xfe, 0x57, 0x00]);

    const narrow = smss86("export", hive, "controlset001\\control\\session manager\\dos devices", "--utf8", "--prefix", "HKLM\\SYS");
    expect(narrow.stdout.toString()).toBe(
      [
        "Windows Registry Editor Version 5.00",
        "",
        "[HKLM\\SYS\\ControlSet001\\Control\\Session Manager\\DOS Devices]",
        '"AUX"="\\\\DosDevices\\\\COM1"',
        '"MAILSLOT"="\\\\Device\\\\MailSlot"',
        '"NUL"="\\\\Device\\\\Null"',
        '"PIPE"="\\\\Device\\\\NamedPipe"',
        '"PRN"="\\\\DosDevices\\\\LPT1"',
        "",
        "",
      ].join("\r\n"),
    );
  });

  it("exports UTF-8 to a terminal, where a person reads it", () => {
    const hive = builtSystem(scratch());
    // util-linux's script gives the command a pseudo-terminal, as a person's shell would.
    const command = `${process.execPath} bin/smss86.cjs hive export ${hive} Select`;
    const run = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    expect(run.status, run.stderr.toString()).toBe(0);
    const shown = run.stdout.toString();
    expect(shown.startsWith("Windows Registry Editor Version 5.00")).toBe(true);
    expect(shown).toContain("[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]");
    expect(shown).not.toContain("\0");
  });

  it("merges a regedit-style UTF-16LE file into an existing hive", () => {
    const dir = scratch();
    const hive = builtSystem(dir);
    const change = join(dir, "change.reg");
    const text = [
      "Windows Registry Editor Version 5.00",
      "",
      "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]",
      '"Current"=dword:00000002',
      "",
      "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Control]",
      "",
      "[-HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Beep]",
      "",
    ].join("\r\n");
    writeFileSync(change, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    expect(smss86("import", change, hive).status).toBe(0);
    expect(hivexget(hive, "\\Select", "Current")).toBe("2\n");
    expect(hivexget(hive, "\\Select", "Default")).toBe("1\n");
    const tree = hivexDump(hive).join("\n");
    expect(tree).toContain(`K ${Buffer.from("ControlSet002").toString("hex")}/${Buffer.from("Control").toString("hex")}`);
    expect(tree).not.toContain(Buffer.from("Beep").toString("hex"));
    expect(readdirSync(dir).sort()).toEqual(["SYSTEM", "change.reg"]);
  });

  it("reports a syntax error as file:line:column and leaves the hive untouched", () => {
    const dir = scratch();
    const hive = builtSystem(dir);
    const before = readFileSync(hive);
    const bad = join(dir, "bad.reg");
    writeFileSync(
      bad,
      'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\New]\n"ok"=dword:00000001\n"broken"=hex:0g\n',
    );
    const run = smss86("import", bad, hive);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`smss86 hive import: ${bad}:5:15: expected "," between hex bytes\n`);
    expect(readFileSync(hive).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["SYSTEM", "bad.reg"]);

    const outside = join(dir, "outside.reg");
    writeFileSync(outside, "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\New]\n\n[HKEY_CURRENT_USER\\X]\n");
    const refused = smss86("import", outside, hive);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/outside\.reg:5: key HKEY_CURRENT_USER\\X is not in HKEY_LOCAL_MACHINE\\SYSTEM/);
    expect(readFileSync(hive).equals(before)).toBe(true);
  });

  it("refuses to change a dirty hive that has no logs, but reads it with a warning", () => {
    const dir = scratch();
    const hive = join(dir, "NewDirtyHive");
    copyFileSync(join(edgeDir, "NewDirtyHive1/NewDirtyHive"), hive);
    writeFileSync(join(dir, "x.reg"), "Windows Registry Editor Version 5.00\n\n[A\\B\\C]\n");
    const before = readFileSync(hive);
    const refused = smss86("import", join(dir, "x.reg"), hive);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/dirty/);
    expect(readFileSync(hive).equals(before)).toBe(true);
    const read = smss86("export", hive, "--utf8");
    expect(read.status).toBe(0);
    expect(read.stderr).toMatch(/warning: .*dirty and has no logs/);
    expect(read.stdout.toString()).toMatch(/^Windows Registry Editor Version 5\.00\r\n/);
  });

  it("gets a key as .reg text and values as text, lines and numbers", () => {
    const hive = builtSystem(scratch());
    const sm = "ControlSet001\\Control\\Session Manager";
    expect(smss86("get", hive, `${sm}\\SubSystems`, "Required").stdout.toString()).toBe("Debug\nWindows\n");
    expect(smss86("get", hive, `${sm}\\Environment`, "ComSpec").stdout.toString()).toBe("%SystemRoot%\\system32\\cmd.exe\n");
    expect(smss86("get", hive, "select", "LastKnownGood").stdout.toString()).toBe("2\n");
    expect(smss86("get", hive, "ControlSet001\\Control\\ComputerName\\ComputerName", "@").stdout.toString()).toBe("mnmsrvc\n");
    expect(smss86("get", hive, "Select").stdout.toString()).toBe(
      [
        "Windows Registry Editor Version 5.00",
        "",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]",
        '"Current"=dword:00000001',
        '"Default"=dword:00000001',
        '"Failed"=dword:00000000',
        '"LastKnownGood"=dword:00000002',
        "",
        "",
      ].join("\r\n"),
    );
    const missing = smss86("get", hive, "No\\Such\\Key");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`smss86 hive get: ${hive}: no key "No\\Such\\Key"\n`);
    expect(smss86("get", hive, "Select", "Nope").status).toBe(1);
  });

  it("checks a clean hive", () => {
    const hive = builtSystem(scratch());
    const run = smss86("check", hive);
    expect(run.status).toBe(0);
    const report = run.stdout.toString();
    expect(report).toMatch(/^version: +regf 1\.5/m);
    expect(report).toMatch(/^state: +clean$/m);
    const keysInSource = readFileSync(SYSTEM_REG, "utf8").split("\n").filter((line) => line.startsWith("[")).length;
    expect(report).toMatch(new RegExp(`^keys: +${keysInSource}$`, "m"));
    expect(report).toMatch(/^problems: +none$/m);
  });

  it("prints what it could read of a truncated hive, then the error, and fails", () => {
    const run = smss86("check", join(edgeDir, "TruncatedHive"));
    expect(run.status).toBe(1);
    expect(run.stdout.toString()).toMatch(/^hive bins data: +487424 bytes \(file has 8192 after the base block\)$/m);
    expect(run.stderr).toMatch(/^smss86 hive check: .*TruncatedHive: offset 0x3000: file has 12288 bytes but the base block declares 491520\n$/);
  });

  it("recovers a dirty hive from the logs beside it into OUT, as Windows recovered it", () => {
    const dir = scratch();
    for (const file of ["NewDirtyHive", "NewDirtyHive.LOG1", "NewDirtyHive.LOG2"]) {
      copyFileSync(join(edgeDir, "NewDirtyHive1", file), join(dir, file));
    }
    const out = join(dir, "recovered");
    const run = smss86("check", join(dir, "NewDirtyHive"), "--recover", out);
    expect(run.status).toBe(0);
    const report = run.stdout.toString();
    expect(report).toMatch(/^state: +DIRTY/m);
    expect(report).toMatch(/^recovery: +would replay 4 HvLE entries/m);
    expect(report).toMatch(/wrote the recovered hive to/);
    expect(hivexDump(out)).toEqual(hivexDump(join(edgeDir, "NewDirtyHive1/RecoveredHive_Windows10")));
    expect(smss86("check", out).stdout.toString()).toMatch(/^state: +clean$/m);
  });

  it("fails when the logs do not verify, and writes nothing", () => {
    const dir = scratch();
    for (const file of ["BadLogHive", "BadLogHive.LOG1", "BadLogHive.LOG2"]) {
      copyFileSync(join(edgeDir, "BadLogHive1", file), join(dir, file));
    }
    const run = smss86("check", join(dir, "BadLogHive"), "--recover", join(dir, "out"));
    expect(run.status).toBe(1);
    expect(run.stdout.toString()).toMatch(/^recovery: +impossible: .*LOG1/m);
    expect(readdirSync(dir).sort()).toEqual(["BadLogHive", "BadLogHive.LOG1", "BadLogHive.LOG2"]);
  });
});
