// A test of your own against the machine: boot with a changed SYSTEM hive and a file, watch a phase, log on
// and type in the shell, crash it through smss's control line, expect a STOP, read the file back.
import { afterEach, expect, it } from "vitest";
import { bootMachine, type BootedMachine } from "smss86";

let machine: BootedMachine | undefined;
afterEach(() => machine?.stop());

it("a BootExecute program that is missing is skipped, and the boot goes on", async () => {
  machine = await bootMachine({
    hive: {
      merge: [
        "Windows Registry Editor Version 5.00",
        "",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager]",
        // REG_MULTI_SZ: "autocheck autochk *", "none"
        '"BootExecute"=hex(7):61,00,75,00,74,00,6f,00,63,00,68,00,65,00,63,00,6b,00,20,00,61,00,75,00,74,00,6f,00,63,00,68,00,6b,00,20,00,2a,00,00,00,6e,00,6f,00,6e,00,65,00,00,00,00,00',
        "",
      ].join("\r\n"),
    },
    files: { "/Temp/note.txt": "hello" },
  });
  const bootExecute = await machine.waitForPhase("boot-execute");
  expect(bootExecute.data!.commands).toContainEqual(expect.objectContaining({ line: "none", skipped: expect.stringMatching(/not found/) }));
  expect((await machine.logon("User", "password")).status).toBe("done");
  await machine.type("echo hello from %USERNAME%\n");
  await machine.waitForConsole(/hello from User\r?\n/);
  await machine.command("crash");
  expect(await machine.expectStop()).toMatchObject({ code: 0xc000021a, reason: "crash requested on the control line" });
  expect(new TextDecoder().decode(machine.readFile("/Temp/note.txt"))).toBe("hello");
});
