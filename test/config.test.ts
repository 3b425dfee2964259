// The Session Manager's value parsing (src/config), NT object paths and Win32 paths (src/ntpath), Winlogon's
// values and the product version in the SOFTWARE hive (the default one built from images/hives/SOFTWARE.reg).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildHive, SOFTWARE_REG, SYSTEM_REG } from "../images/disk.ts";
import { parseSmssCommand, splitWin32CommandLine, tokenize, withExeExtension } from "../src/config/commandline.ts";
import { Environment } from "../src/config/environment.ts";
import { parsePagingFileEntry, systemManagedSizes } from "../src/config/pagingfiles.ts";
import { pairRenames } from "../src/config/renames.ts";
import { crashAutoReboot, readSessionConfig } from "../src/config/sessions.ts";
import { currentControlSet, sessionManagerKey, splitMultiString } from "../src/config/values.ts";
import { versionLine, windowsVersion } from "../src/config/version.ts";
import { shellCommand, userinitCommands, WINLOGON_KEY } from "../src/config/winlogon.ts";
import { encodeDword, Hive, REG_DWORD, REG_EXPAND_SZ, REG_SZ, encodeString } from "../src/hive/index.ts";
import { fullWin32Path, guestToWin32Path, ntObjectPath } from "../src/ntpath/index.ts";
import { parseCsrssCommandLine } from "../src/config/csrss.ts";

const utf16 = (...strings: string[]) => {
  const text = strings.join("\0");
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) out[2 * i] = text.charCodeAt(i);
  return out;
};

describe("REG_MULTI_SZ as smss's registry query splits it", () => {
  it("keeps empty strings inside the list and drops the final terminator", () => {
    expect(splitMultiString(utf16("a", "b", "", ""))).toEqual(["a", "b"]);
    expect(splitMultiString(utf16("src", "", "next", "target", "", ""))).toEqual(["src", "", "next", "target"]);
    expect(splitMultiString(utf16("no terminator"))).toEqual(["no terminator"]);
    expect(splitMultiString(new Uint8Array([0, 0]))).toEqual([]);
    expect(splitMultiString(new Uint8Array([0x41, 0, 0x42]))).toEqual(["A"]);
  });
});

describe("Select\\Current", () => {
  it("names the control set, and says what is wrong with a bad one", () => {
    const hive = Hive.create();
    expect(() => currentControlSet(hive)).toThrow(/Select\\Current: missing/);
    hive.createKey("Select").setValue("Current", REG_SZ, encodeString("1"));
    expect(() => currentControlSet(hive)).toThrow(/is REG_SZ of 4 bytes, not a REG_DWORD/);
    hive.createKey("Select").setValue("Current", REG_DWORD, encodeDword(2));
    expect(() => currentControlSet(hive)).toThrow(/names ControlSet002, which the hive does not have/);
    hive.createKey("ControlSet002");
    expect(currentControlSet(hive)).toBe("ControlSet002");
  });
});

describe("the environment", () => {
  it("expands %NAME% case-insensitively and leaves unknown names and lone % as written", () => {
    const environment = new Environment();
    environment.set("SystemRoot", "C:\\Windows");
    environment.set("systemroot", "C:\\Windows");
    expect(environment.list()).toEqual([{ name: "SystemRoot", value: "C:\\Windows" }]);
    expect(environment.expand("%SYSTEMROOT%\\system32;%NOPE%;100%;%%;%SystemRoot%")).toBe("C:\\Windows\\system32;%NOPE%;100%;%%;C:\\Windows");
    expect(environment.toEnvp()).toEqual(["SystemRoot=C:\\Windows"]);
  });

  it("comes from execve's strings, loses variables, and asks `dynamic` for names it does not have", () => {
    const environment = Environment.fromEnvp(["Path=C:\\a;C:\\b", "=C:=C:\\Users", "EMPTY=", "garbage", "X=a=b"]);
    expect(environment.toEnvp()).toEqual(["Path=C:\\a;C:\\b", "=C:=C:\\Users", "EMPTY=", "X=a=b"]);
    expect(environment.delete("path")).toBe(true);
    expect(environment.delete("path")).toBe(false);
    const dynamic = (name: string) => (name.toUpperCase() === "ERRORLEVEL" ? "9009" : undefined);
    expect(environment.expand("%errorlevel% %X% %NOPE% %PATH%", dynamic)).toBe("9009 a=b %NOPE% %PATH%");
  });
});

describe("smss command lines", () => {
  it("splits at characters up to space and reads the leading keywords", () => {
    expect(tokenize(" a\tb\u0001c  ")).toEqual(["a", "b", "c"]);
    expect(parseSmssCommand("autocheck autochk *")).toMatchObject({ autocheck: true, async: false, image: "autochk.exe", args: ["*"] });
    expect(parseSmssCommand("ASYNC debug tool.com /x")).toMatchObject({ async: true, debug: true, image: "tool.com", args: ["/x"] });
    expect(parseSmssCommand("C:\\dir.d\\prog x")).toMatchObject({ image: "C:\\dir.d\\prog.exe" });
    expect(() => parseSmssCommand("autocheck async")).toThrow(/names no program/);
    expect(withExeExtension("C:\\dir.d\\cmd")).toBe("C:\\dir.d\\cmd.exe");
    expect(withExeExtension("cmd.com")).toBe("cmd.com");
  });
});

describe("Win32 command lines", () => {
  it("split as the C runtime splits them for main()", () => {
    expect(splitWin32CommandLine('  prog  a\tb  "c d"e ""  ')).toEqual(["prog", "a", "b", "c de", ""]);
    expect(splitWin32CommandLine('"C:\\Program Files\\x.exe" /s')).toEqual(["C:\\Program Files\\x.exe", "/s"]);
    // Backslashes count only before a quote: 2n → n and the quote delimits, 2n+1 → n and a literal quote.
    expect(splitWin32CommandLine('a\\\\b c\\\\"d e" f\\\\\\"g')).toEqual(["a\\\\b", "c\\d e", 'f\\"g']);
    expect(splitWin32CommandLine('"say ""hi""" x')).toEqual(['say "hi"', "x"]);
    expect(splitWin32CommandLine("")).toEqual([]);
  });
});

describe("PagingFiles entries", () => {
  it("reads path, min and max in MB as Windows does", () => {
    expect(parsePagingFileEntry("C:\\pagefile.sys 16 32")).toEqual({ path: "C:\\pagefile.sys", anyDrive: false, minMiB: 16, maxMiB: 32 });
    expect(parsePagingFileEntry("?:\\pagefile.sys")).toEqual({ path: "?:\\pagefile.sys", anyDrive: true });
    expect(parsePagingFileEntry("C:\\p.sys 0 0")).toEqual({ path: "C:\\p.sys", anyDrive: false });
    expect(parsePagingFileEntry("C:\\p.sys 64 16")).toMatchObject({ minMiB: 64, maxMiB: 64 });
    expect(parsePagingFileEntry("C:\\p.sys 0x20")).toMatchObject({ minMiB: 32, maxMiB: 32 });
    expect(() => parsePagingFileEntry("C:\\p.sys lots")).toThrow(/size "lots" is not a number/);
    expect(() => parsePagingFileEntry("pagefile.sys")).toThrow(/must be a drive letter/);
    expect(() => parsePagingFileEntry("C:\\p.sys 1 2 3")).toThrow(/more than a path and two sizes/);
    expect(() => parsePagingFileEntry("C:\\p.sys 9999999")).toThrow(/beyond 4 GB/);
  });

  it("sizes system-managed files from RAM", () => {
    expect(systemManagedSizes(64 << 20)).toEqual({ minMiB: 96, maxMiB: 192 });
    expect(systemManagedSizes(2048 * 2 ** 20)).toEqual({ minMiB: 2048, maxMiB: 6144 });
  });
});

describe("PendingFileRenameOperations pairs", () => {
  it("pairs in order; an empty target deletes, ! and @ replace; an odd last string is left over", () => {
    const { operations, unpaired } = pairRenames(["a", "b", "c", "", "d", "!e", "f", "@g", "h"]);
    expect(operations.map(({ kind, target, replaceExisting }) => [kind, target, replaceExisting])).toEqual([
      ["rename", "b", false],
      ["delete", "", false],
      ["rename", "e", true],
      ["rename", "g", true],
    ]);
    expect(unpaired).toBe("h");
  });
});

describe("NT paths in the object namespace", () => {
  it("spells them under /NT and refuses any that climb out of their volume", () => {
    expect(ntObjectPath("\\??\\C:\\Windows\\.\\x\\..\\y")).toBe("/NT/??/C:/Windows/y");
    expect(ntObjectPath("c:\\a")).toBe("/NT/??/C:/a");
    expect(ntObjectPath("\\Device\\HarddiskVolume2\\a\\..")).toBe("/NT/Device/HarddiskVolume2");
    expect(ntObjectPath("\\Windows\\ApiPort")).toBe("/NT/Windows/ApiPort");
    expect(() => ntObjectPath("\\??\\C:\\..\\D:\\x")).toThrow(/climbs out of its volume/);
    expect(() => ntObjectPath("\\Device\\HarddiskVolume1\\..\\HarddiskVolume2")).toThrow(/climbs out of its volume/);
    expect(() => ntObjectPath("\\SystemRoot\\..\\x")).toThrow(/climbs out of its volume/);
    expect(() => ntObjectPath("relative\\x")).toThrow(/not an absolute NT path/);
    expect(() => ntObjectPath("\\??\\C:\\a/b")).toThrow(/holds "\/" or NUL/);
  });
});

describe("Win32 paths", () => {
  it("are made absolute against the current directory as GetFullPathName makes them", () => {
    const cwd = "C:\\Users\\User";
    expect(fullWin32Path("Documents", cwd)).toBe("C:\\Users\\User\\Documents");
    expect(fullWin32Path("..\\Public/.\\x", cwd)).toBe("C:\\Users\\Public\\x");
    expect(fullWin32Path("..\\..\\..\\..", cwd)).toBe("C:\\");
    expect(fullWin32Path("\\Windows", cwd)).toBe("C:\\Windows");
    expect(fullWin32Path("c:\\windows\\", cwd)).toBe("C:\\windows");
    expect(fullWin32Path("C:x", cwd)).toBe("C:\\Users\\User\\x");
    expect(fullWin32Path("d:x", cwd)).toBe("D:\\x");
    expect(fullWin32Path("a. \\b...", "C:\\")).toBe("C:\\a\\b");
    expect(fullWin32Path("", "c:")).toBe("C:\\");
    expect(() => fullWin32Path("\\\\server\\share", cwd)).toThrow(/UNC and device paths are not supported/);
    expect(() => fullWin32Path("x", "Users")).toThrow(/not a drive path/);
  });

  it("spell the guest's root filesystem as drive C:", () => {
    expect(guestToWin32Path("/")).toBe("C:\\");
    expect(guestToWin32Path("/Users/User/")).toBe("C:\\Users\\User");
    expect(() => guestToWin32Path("Users")).toThrow(/not absolute/);
    expect(() => guestToWin32Path("/tmp/a\\b")).toThrow(/holds "\\"/);
  });
});

describe("the SOFTWARE hive", () => {
  const environment = new Environment();
  environment.set("SystemRoot", "C:\\Windows");
  const defaultHive = Hive.open(buildHive(readFileSync(SOFTWARE_REG), SOFTWARE_REG));
  const winlogon = (values: Record<string, [number, string]>) => {
    const hive = Hive.create();
    const key = hive.createKey(WINLOGON_KEY);
    for (const [name, [type, text]] of Object.entries(values)) key.setValue(name, type, encodeString(text));
    return hive;
  };

  it("the default one starts userinit, then cmd.exe, and names the product", () => {
    expect(userinitCommands(defaultHive, environment)).toEqual(["C:\\Windows\\system32\\userinit.exe"]);
    expect(shellCommand(defaultHive, environment)).toBe("cmd.exe");
    expect(windowsVersion(defaultHive)).toEqual({ productName: "smss86", currentVersion: "6.1", currentBuildNumber: "7601" });
    expect(versionLine(windowsVersion(defaultHive))).toBe("smss86 [Version 6.1.7601]");
  });

  it("Userinit is a comma-separated list whose empty entries are skipped; REG_EXPAND_SZ is expanded", () => {
    const hive = winlogon({ Userinit: [REG_EXPAND_SZ, " %SystemRoot%\\a.exe /x,, b.exe ,"], Shell: [REG_EXPAND_SZ, " %SystemRoot%\\shell.exe -y "] });
    expect(userinitCommands(hive, environment)).toEqual(["C:\\Windows\\a.exe /x", "b.exe"]);
    expect(shellCommand(hive, environment)).toBe("C:\\Windows\\shell.exe -y");
    expect(userinitCommands(winlogon({ Userinit: [REG_SZ, "%SystemRoot%\\a.exe"] }), environment)).toEqual(["%SystemRoot%\\a.exe"]);
  });

  it("says which key or value is missing or unusable", () => {
    const path = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
    expect(() => shellCommand(Hive.create(), environment)).toThrow(`${path}\\Winlogon: the key is missing`);
    expect(() => shellCommand(winlogon({}), environment)).toThrow(`${path}\\Winlogon\\Shell: missing`);
    expect(() => shellCommand(winlogon({ Shell: [REG_SZ, "  "] }), environment)).toThrow(`${path}\\Winlogon\\Shell: is empty`);
    expect(() => userinitCommands(winlogon({ Userinit: [REG_SZ, ", ,"] }), environment)).toThrow(`${path}\\Winlogon\\Userinit: names no program`);
    const dword = Hive.create();
    dword.createKey(WINLOGON_KEY).setValue("Shell", REG_DWORD, encodeDword(1));
    expect(() => shellCommand(dword, environment)).toThrow(`${path}\\Winlogon\\Shell: is REG_DWORD, not REG_SZ or REG_EXPAND_SZ`);
    expect(() => windowsVersion(Hive.create())).toThrow(`${path}: the key is missing`);
    const noBuild = Hive.create();
    noBuild.createKey("Microsoft\\Windows NT\\CurrentVersion").setValue("ProductName", REG_SZ, encodeString("x"));
    expect(() => windowsVersion(noBuild)).toThrow(`${path}\\CurrentVersion: missing`);
  });
});

describe("csrss's command line", () => {
  const windows7 =
    "ObjectDirectory=\\Windows SharedSection=1024,12288,512 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=winsrv:ConServerDllInitialization,2 ProfileControl=Off MaxRequestThreads=16".split(" ");

  it("reads Windows 7's", () => {
    expect(parseCsrssCommandLine(windows7)).toEqual({
      objectDirectory: "\\Windows",
      sharedSectionKiB: [1024, 12288, 512],
      serverDlls: [
        { dll: "basesrv.dll", entry: undefined, index: 1 },
        { dll: "winsrv.dll", entry: "UserServerDllInitialization", index: 3 },
        { dll: "winsrv.dll", entry: "ConServerDllInitialization", index: 2 },
      ],
      maxRequestThreads: 16,
    });
  });

  it("refuses what Windows refuses, naming the argument", () => {
    const refused: [string[], RegExp][] = [
      [[...windows7, "Bogus=1"], /unknown argument "Bogus=1"/],
      [["ObjectDirectory=\\Windows", "NoEquals"], /"NoEquals" is not of the form Name=Value/],
      [["SharedSection=1024"], /needs at least two sizes/],
      [["ObjectDirectory=\\Windows", "SharedSection=1024,x"], /SharedSection=1024,x: "x" is not a number/],
      [["ObjectDirectory=\\Windows", "ServerDll=basesrv"], /the index is missing/],
      [["ObjectDirectory=\\Windows", "ServerDll=basesrv,4"], /beyond the 4 server DLL slots/],
      [["ObjectDirectory=\\Windows", "ServerDll=a:b:c,1"], /not of the form dll\[:Entry\],Index/],
      [["ObjectDirectory=\\Windows", "ServerDll=a,1", "ServerDll=b,1"], /slot 1 is already taken/],
      [["ObjectDirectory=\\Windows", "MaxRequestThreads=0"], /MaxRequestThreads: "0" is not a number/],
      [["SharedSection=1024,3072"], /ObjectDirectory= is missing/],
      [["ObjectDirectory=Windows"], /not an object directory path/],
    ];
    for (const [args, message] of refused) expect(() => parseCsrssCommandLine(args), args.join(" ")).toThrow(message);
  });
});

describe("sessions: SubSystems, the session model and CrashControl", () => {
  const system = buildHive(readFileSync(SYSTEM_REG), SYSTEM_REG);
  const environment = Environment.fromEnvp(["SystemRoot=C:\\Windows"]);

  it("reads the default hive: Vista model, Required without Debug and expanded, wininit then winlogon, no auto-reboot", () => {
    const hive = Hive.open(system.slice());
    const config = readSessionConfig(sessionManagerKey(hive), environment);
    expect(config.model).toBe("Vista");
    expect(config.required).toEqual([{ name: "Windows", commandLine: expect.stringMatching(/^C:\\Windows\\system32\\csrss\.exe ObjectDirectory=\\Windows /) }]);
    expect(config.sessionZeroCommand).toBe("wininit.exe");
    expect(config.initialCommand).toBe("winlogon.exe");
    expect(crashAutoReboot(hive)).toBe(false);
  });

  it("takes NT5 and S0InitialCommand, refuses another model and a Required name without its value", () => {
    const hive = Hive.open(system.slice());
    const sm = sessionManagerKey(hive);
    sm.key.setValue("SessionModel", REG_SZ, encodeString("NT5"));
    sm.key.setValue("S0InitialCommand", REG_EXPAND_SZ, encodeString("%SystemRoot%\\system32\\other.exe"));
    expect(readSessionConfig(sm, environment)).toMatchObject({ model: "NT5", sessionZeroCommand: "C:\\Windows\\system32\\other.exe" });
    sm.key.setValue("SessionModel", REG_SZ, encodeString("Windows 95"));
    expect(() => readSessionConfig(sm, environment)).toThrow(/Session Manager\\SessionModel: is "Windows 95", not "Vista" or "NT5"/);
    sm.key.setValue("SessionModel", REG_SZ, encodeString("Vista"));
    sm.key.subkey("SubSystems")!.setValue("Required", REG_SZ, encodeString("Os2"));
    expect(() => readSessionConfig(sm, environment)).toThrow(/SubSystems\\Os2: is named in Required but missing/);
  });

  it("AutoReboot: Windows' default (1) when absent or not a DWORD", () => {
    const hive = Hive.open(system.slice());
    const crashControl = hive.key(`${currentControlSet(hive)}\\Control\\CrashControl`)!;
    crashControl.setValue("AutoReboot", REG_DWORD, encodeDword(1));
    expect(crashAutoReboot(hive)).toBe(true);
    crashControl.setValue("AutoReboot", REG_SZ, encodeString("0"));
    expect(crashAutoReboot(hive)).toBe(true);
    expect(crashAutoReboot(Hive.open(buildHive(new TextEncoder().encode("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001]\r\n"), "tiny.reg")))).toBe(true);
  });
});
