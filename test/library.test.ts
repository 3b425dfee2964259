// The library for other people's tests, imported as they would: `import { bootMachine } from "smss86"`. What
// the phase and boot tests use is exercised there; here, what they do not: a whole hive as .reg text, typing
// and reading the answer, waits that fail (and what their messages say), expectStop refusing a power-off,
// the disk read back and saved.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootMachine, BootMachineError, type BootedMachine } from "smss86";
import { openVolume } from "../emulator/disk/image.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { SYSTEM_REG } from "../images/disk.ts";

const running: BootedMachine[] = [];
afterAll(async () => {
  for (const machine of running) await machine.stop();
});

describe("a machine booted with a whole SYSTEM hive as .reg text", () => {
  let machine: BootedMachine;

  it("boots with it: smss sets the environment the hive holds", async () => {
    const keyLine = "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager\\Environment]";
    const defaultHive = readFileSync(SYSTEM_REG, "utf8");
    expect(defaultHive).toContain(keyLine);
    machine = await bootMachine({ hive: defaultHive.replace(keyLine, `${keyLine}\r\n"FROM_THE_LIBRARY"="whole hive"`), files: { "/Temp/given.txt": "given" } });
    running.push(machine);
    const environment = await machine.waitForPhase("environment");
    expect(environment.data!.variables).toContainEqual({ name: "FROM_THE_LIBRARY", value: "whole hive", expanded: false });
    expect(new TextDecoder().decode(machine.readFile("/Temp/given.txt"))).toBe("given");
  });

  it("logs on, types in the shell and waits for the answer; asks smss on its control line", async () => {
    expect(await machine.logon("User", "password")).toEqual({ status: "done", data: { sessionId: 1, user: "User", uid: 1000 } });
    await machine.waitForConsole(/C:\\Users\\User>$/);
    const before = machine.console.length;
    await machine.type("ver\n");
    const text = await machine.waitForConsole(/ver\r?\n\r?\nsmss86 \[Version 6\.1\.7601\]/, { from: before });
    expect(text.slice(before)).toMatch(/^ver\r?\n/);
    expect(await machine.command("ver")).toMatch(/^smss86 Session Manager on Linux 6\.1\.\d+ \(i686\)$/);
    await expect(machine.command("nonsense")).rejects.toThrow(/smss refused "nonsense": unknown command "nonsense"/);
  });

  it("a wait that times out says what it awaited, the last event and the console's tail", async () => {
    const waiting = machine.waitForEvent((e) => e.phase === "stop", { description: "a STOP event", timeoutMs: 300 });
    await expect(waiting).rejects.toBeInstanceOf(BootMachineError);
    await expect(waiting).rejects.toThrow(/^timed out after 0\.3 s waiting for a STOP event \(last event: [a-z-]+ [a-z]+\)\nlast event: [a-z-]+ [a-z]+ at \d+\.\d\d s\n--- console tail ---\n[\s\S]*smss86 \[Version/);
    await expect(machine.waitForConsole("never printed", { timeoutMs: 200 })).rejects.toThrow(
      /^timed out after 0\.2 s waiting for the console to show "never printed"\nlast event: [a-z-]+ [a-z]+ at /,
    );
  });

  it("expectStop rejects a power-off, saying how the machine ended", async () => {
    await machine.command("shutdown");
    await expect(machine.expectStop()).rejects.toThrow(/^expected a STOP, but powered off\nlast event: power-off done at [\d.]+ s\n--- console tail ---\n[\s\S]*syncing disks and powering off/);
    await expect(machine.waitForPhase("ready", { status: "failed" })).rejects.toThrow(/^the machine ended \(powered off\) before phase "ready" failed\nlast event: power-off done/);
  });

  it("reads files back from the disk and saves it", async () => {
    expect(new TextDecoder().decode(machine.readFile("/Windows/ntbtlog.txt"))).toMatch(/^BOOT 1 smss pid=1 /);
    const file = join(mkdtempSync(join(tmpdir(), "smss86-library-")), "saved.img");
    const copy = await machine.saveDisk(file);
    expect(copy.length).toBe(64 * 2 ** 20);
    expect(Buffer.compare(copy, machine.diskBytes())).toBe(0);
    expect(new TextDecoder().decode(openVolume(new Uint8Array(readFileSync(file))).readFile("/Windows/ntbtlog.txt"))).toMatch(/^BOOT 1 /);
  });
});

it("the README shows the example test as it is in test/library-example.test.ts", () => {
  const example = readFileSync(join(REPO_ROOT, "test", "library-example.test.ts"), "utf8");
  expect(readFileSync(join(REPO_ROOT, "README.md"), "utf8")).toContain("```ts\n" + example + "```\n");
});

describe("a wait on a machine that never gets there", () => {
  it("a timeout before any event says so, with the console's tail", async () => {
    const machine = await bootMachine({ memoryMiB: 16, timeoutMs: 100 });
    running.push(machine);
    await expect(machine.waitForPhase("ready")).rejects.toThrow(
      /^timed out after 0\.1 s waiting for phase "ready" done \(no probe event arrived\)\nlast event: none \(smss never reported on the probe channel\)\n--- console tail ---\n/,
    );
  });
});
