// cmd.exe and userinit.exe. On the host: the command word, prompt codes, wildcards and the layouts of dir and
// tasklist (src/cmd). In the emulated PC (test/guest-run.ts), against the default SOFTWARE hive and stand-ins
// for winlogon (test/fixtures/cmd/logon.ts: session 1, uid 1000) and csrss (fake-csrss.ts): cmd fed a
// script on stdin, checked command by command; userinit starting the Shell of test hives.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildHive, SOFTWARE_REG } from "../images/disk.ts";
import { buildGuestProgram, runtimePath } from "../images/guest.ts";
import { dirDirsLine, dirEntryLine, dirFilesLine, dirTimestamp, groupThousands, tasklistTable } from "../src/cmd/format.ts";
import { commandWord, expandPrompt, matchesWildcard } from "../src/cmd/parse.ts";
import { WINLOGON_KEY } from "../src/config/winlogon.ts";
import { encodeString, Hive, REG_SZ } from "../src/hive/index.ts";
import { readGuestFile, runInGuest, type GuestCommand, type GuestResult } from "./guest-run.ts";

describe("what cmd reads from a line", () => {
  it("ends a built-in command's name at a blank or a delimiter, skipping blanks and @ before it", () => {
    expect(commandWord("echo.")).toEqual({ builtin: "echo", rest: "." });
    expect(commandWord("  @cd..")).toEqual({ builtin: "cd", rest: ".." });
    expect(commandWord("dir/b")).toEqual({ builtin: "dir", rest: "/b" });
    expect(commandWord("set X=1")).toEqual({ builtin: "set", rest: " X=1" });
    expect(commandWord("C:\\t\\show.exe 1")).toEqual({ builtin: "C", rest: ":\\t\\show.exe 1" });
    expect(commandWord('"echo" x')).toEqual({ builtin: "", rest: '"echo" x' });
    expect(commandWord("")).toEqual({ builtin: "", rest: "" });
  });

  it("expands PROMPT's $ codes", () => {
    const facts = { currentDirectory: "C:\\Users\\User", now: new Date(2026, 0, 2, 9, 5, 7, 120), version: "smss86 [Version 6.1.7601]" };
    expect(expandPrompt("$P$G", facts)).toBe("C:\\Users\\User>");
    expect(expandPrompt("$n$q$$ $l$b$a$c$f$s$_$v$x$+$", facts)).toBe("C=$ <|&() \nsmss86 [Version 6.1.7601]");
    expect(expandPrompt("[$D $T]", facts)).toBe("[Fri 01/02/2026  9:05:07.12]");
  });

  it("matches wildcards without regard to case, as dir does", () => {
    expect(matchesWildcard("Notes.TXT", "*.txt")).toBe(true);
    expect(matchesWildcard("notes.txt", "n?tes.*")).toBe(true);
    expect(matchesWildcard("notes.txt", "*s*s*")).toBe(false);
    expect(matchesWildcard("aXbXc", "a*b*c")).toBe(true);
    expect(matchesWildcard("..", "*.*")).toBe(true);
    expect(matchesWildcard("README", "*.")).toBe(true);
    expect(matchesWildcard("a.txt", "*.")).toBe(false);
    expect(matchesWildcard("notes.txt", "notes.txt")).toBe(true);
    expect(matchesWildcard("notes.txt", "notes")).toBe(false);
  });
});

describe("the layouts of dir and tasklist", () => {
  it("dir: entries with the name at column 40, totals right-aligned together", () => {
    expect(groupThousands(0)).toBe("0");
    expect(groupThousands(999)).toBe("999");
    expect(groupThousands(1234567)).toBe("1,234,567");
    expect(dirTimestamp(new Date(2009, 6, 14, 0, 52))).toBe("07/14/2009  12:52 AM");
    expect(dirTimestamp(new Date(2009, 5, 10, 16, 42))).toBe("06/10/2009  04:42 PM");
    expect(dirTimestamp(new Date(2009, 5, 10, 12, 0))).toBe("06/10/2009  12:00 PM");
    const modified = new Date(2009, 6, 14, 6, 52);
    expect(dirEntryLine({ name: "addins", modified, directory: true })).toBe("07/14/2009  06:52 AM    <DIR>          addins");
    expect(dirEntryLine({ name: "bfsvc.exe", modified, directory: false, size: 71168 })).toBe("07/14/2009  06:52 AM            71,168 bfsvc.exe");
    expect(dirFilesLine(3, 71168)).toBe("               3 File(s)         71,168 bytes");
    expect(dirDirsLine(15, 30521323520)).toBe("              15 Dir(s)  30,521,323,520 bytes free");
  });

  it("tasklist: Windows' columns but Session Name, then the user, in 80 columns", () => {
    const table = tasklistTable([
      { image: "smss.exe", pid: 1, session: 0, memoryKiB: 1012, user: "NT AUTHORITY\\SYSTEM" },
      { image: "a-very-long-program-name.exe", pid: 31337, session: 1, memoryKiB: 12, user: "SMSS86\\Administrator" },
    ]);
    expect(table.split("\n")).toEqual([
      "",
      "Image Name                     PID    Session#    Mem Usage User Name",
      `========================= ======== =========== ============ ${"=".repeat(20)}`,
      "smss.exe                         1           0      1,012 K NT AUTHORITY\\SYSTEM",
      "a-very-long-program-name.    31337           1         12 K SMSS86\\Administrator",
      "",
    ]);
    for (const line of table.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});

const fixture = (name: string) => buildGuestProgram(join(REPO_ROOT, "test", "fixtures", "cmd", `${name}.ts`), undefined, { runtime: "system" });
const system32 = (name: string) => buildGuestProgram(join(REPO_ROOT, "guest", "system32", `${name}.ts`), undefined, { runtime: "system" });

/** Files every run needs: the shared runtime, win32k.sys, cmd, userinit and the fixtures. */
async function machineFiles(): Promise<Record<string, Uint8Array>> {
  const [setup, logon, show, fakeCsrss, feed, cmd, userinit] = await Promise.all([
    // setup registers the shared runtime, so it carries its own.
    buildGuestProgram(join(REPO_ROOT, "test", "fixtures", "cmd", "setup.ts")),
    fixture("logon"),
    fixture("show"),
    fixture("fake-csrss"),
    fixture("feed"),
    system32("cmd"),
    system32("userinit"),
  ]);
  return {
    "/qjs.exe": readFileSync(runtimePath),
    "/Windows/System32/win32k.sys": readFileSync(join(REPO_ROOT, "images", "prebuilt", "win32k.sys")),
    "/Windows/System32/cmd.exe": cmd,
    "/Windows/System32/userinit.exe": userinit,
    "/t/setup.exe": setup,
    "/t/logon.exe": logon,
    "/t/show.exe": show,
    "/t/fake-csrss.exe": fakeCsrss,
    "/t/feed.exe": feed,
  };
}

/** The environment winlogon gives a user's programs (smss's, with the user's names). */
const USER_ENVIRONMENT = [
  "Path=C:\\t;C:\\Windows\\system32;C:\\Windows",
  "PATHEXT=.COM;.EXE;.BAT;.CMD",
  "SystemRoot=C:\\Windows",
  "ComSpec=C:\\Windows\\system32\\cmd.exe",
  "USERNAME=User",
  "USERDOMAIN=SMSS86",
  "COMPUTERNAME=SMSS86",
  "USERPROFILE=C:\\Users\\User",
  "HOMEDRIVE=C:",
  "HOMEPATH=\\Users\\User",
  "SESSIONNAME=Console",
];

/** A program run as winlogon runs userinit: in session 1, as uid 1000. */
const asUser = (cwd: string, argv: string[], stdin = "", env = USER_ENVIRONMENT): GuestCommand => ({ argv: ["/t/logon.exe", "1", "1000", cwd, ...argv], env, stdin });

/** What cmd printed for one command of its script: from after the echoed command to the blank line before the next prompt. */
function outputOf(transcript: string, command: string): string {
  const echoed = transcript.indexOf(`>${command}\n`);
  if (echoed < 0) throw new Error(`the transcript has no command ${JSON.stringify(command)}:\n${transcript}`);
  const from = echoed + command.length + 2;
  const next = transcript.indexOf("\nC:\\", from);
  return transcript.slice(from, next < 0 ? undefined : next);
}

const CMD = "/Windows/System32/cmd.exe";
const NOTES = "notes from the host\n";
const BIG = 12_345;
const IMAGE_TIME = "01/01/2000  12:00 AM";

describe("cmd.exe in the emulated PC", () => {
  let results: GuestResult[];
  let session: GuestResult;
  let transcript: string;
  let requests: { request: Record<string, unknown>; uid: number }[];

  beforeAll(async () => {
    const script = [
      "set GREETING=Hello World",
      "echo %GREETING%, %username%! %NOPE% 100%",
      "set GREET",
      "set GREETING=",
      "set GREETING",
      "set NOPE_PREFIX",
      "echo.",
      "echo",
      "ECHO   two spaces kept",
      "cd",
      "cd Documents",
      "cd ..\\..\\public",
      "chdir \\users\\USER",
      "cd nosuch",
      "cd notes.txt",
      "dir",
      "dir /b",
      "dir notes.TXT",
      "dir C:\\Windows\\System32\\*.exe",
      "dir *.none",
      "dir C:\\nosuch\\x",
      "type notes.txt",
      "type missing.txt",
      "ver",
      'show 3 "a b"',
      "echo %ERRORLEVEL%",
      "show 0 read",
      "typed for show",
      "tasklist",
      "frobnicate now",
      "logoff",
      "help ver",
      "",
      "exit 5",
      "echo not reached",
    ].join("\r\n");
    const run = await runInGuest(
      {
        ...(await machineFiles()),
        "/Windows/System32/config/SOFTWARE": buildHive(readFileSync(SOFTWARE_REG), SOFTWARE_REG),
        "/Users/User/notes.txt": NOTES,
        "/Users/User/big.bin": new Uint8Array(BIG),
        "/Users/User/Documents/readme.txt": "",
        "/Users/Public/readme.txt": "",
        "/t/pipe-script.txt": "show 0 read\ntyped for show\necho after\n",
      },
      [
        { argv: ["/t/setup.exe", "init"] },
        asUser("/Users/User", [CMD], script),
        // Shutdown: a switch that is not supported, a refusal, then an accepted request (the stand-in ends cmd).
        { argv: ["/t/fake-csrss.exe", "1", "ACCESS_DENIED,SUCCESS"] },
        asUser("/", [CMD], "shutdown /r\nshutdown /s /t 0\nshutdown -s\necho not reached\n"),
        { argv: ["/t/fake-csrss.exe", "1", "SUCCESS"] },
        asUser("/", [CMD], "logoff\necho not reached\n"),
        // /C: one command, its ERRORLEVEL as the exit code, no banner or prompt.
        asUser("/", [CMD, "/c", "show", "4"]),
        asUser("/", [CMD, "/q", "/c", "echo", "quiet"]),
        { argv: ["/t/feed.exe", "/t/pipe-script.txt", CMD], env: USER_ENVIRONMENT },
        // A line longer than Windows' 8191 characters is refused whole; the next one runs.
        asUser("/", [CMD, "/q"], `echo ${"x".repeat(9000)}\necho after\n`),
      ],
    );
    results = run.results;
    session = results[1];
    transcript = session.stdout;
    requests = new TextDecoder()
      .decode(readGuestFile(run, "/csr-requests.txt"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
  }, 180_000);

  it("starts with the version banner and the prompt in the current directory, and exits with EXIT's code", () => {
    expect(results[0]).toMatchObject({ code: 0, stderr: "" });
    expect(transcript.startsWith("smss86 [Version 6.1.7601]\n\nC:\\Users\\User>set GREETING=Hello World\n\nC:\\Users\\User>")).toBe(true);
    expect(session.code).toBe(5);
    expect(transcript.endsWith(">exit 5\n")).toBe(true);
    expect(transcript).not.toContain("not reached");
  });

  it("sets, lists and deletes variables, expanding %VAR% case-insensitively and leaving unknown ones", () => {
    expect(outputOf(transcript, "echo %GREETING%, %username%! %NOPE% 100%")).toBe("Hello World, User! %NOPE% 100%\n");
    expect(outputOf(transcript, "set GREET")).toBe("GREETING=Hello World\n");
    expect(outputOf(transcript, "set GREETING=")).toBe("");
    expect(outputOf(transcript, "set GREETING")).toBe("");
    expect(outputOf(transcript, "set NOPE_PREFIX")).toBe("");
  });

  it("echoes text, an empty line, and its state", () => {
    expect(outputOf(transcript, "echo.")).toBe("\n");
    expect(outputOf(transcript, "echo")).toBe("ECHO is on.\n");
    expect(outputOf(transcript, "ECHO   two spaces kept")).toBe("  two spaces kept\n");
  });

  it("changes directory through relative, parent and absolute paths, in the names' own case", () => {
    expect(outputOf(transcript, "cd")).toBe("C:\\Users\\User\n");
    expect(transcript).toContain("C:\\Users\\User>cd Documents\n\nC:\\Users\\User\\Documents>cd ..\\..\\public\n\nC:\\Users\\Public>chdir \\users\\USER\n\nC:\\Users\\User>");
    expect(outputOf(transcript, "cd nosuch")).toBe("");
    expect(transcript).toContain("C:\\Users\\User>cd notes.txt\n\nC:\\Users\\User>");
  });

  it("lists a directory as Windows does, with sizes and free space", () => {
    const free = /^ {15}3 Dir\(s\) +([\d,]+) bytes free$/;
    const lines = outputOf(transcript, "dir").split("\n");
    expect(lines.slice(0, -2)).toEqual([
      " Volume in drive C has no label.",
      "",
      " Directory of C:\\Users\\User",
      "",
      `${IMAGE_TIME}    <DIR>          .`,
      `${IMAGE_TIME}    <DIR>          ..`,
      `${IMAGE_TIME}                20 notes.txt`,
      `${IMAGE_TIME}            12,345 big.bin`,
      `${IMAGE_TIME}    <DIR>          Documents`,
      "               2 File(s)         12,365 bytes",
    ]);
    expect(lines.at(-2)).toMatch(free);
    expect(Number(free.exec(lines.at(-2)!)![1].replaceAll(",", ""))).toBeGreaterThan(1_000_000);
    expect(outputOf(transcript, "dir /b")).toBe("notes.txt\nbig.bin\nDocuments\n");
    expect(outputOf(transcript, "dir notes.TXT")).toMatch(/ Directory of C:\\Users\\User\n\n01\/01\/2000  12:00 AM {16}20 notes\.txt\n {15}1 File\(s\) {13}20 bytes\n {15}0 Dir\(s\) /);
    const exes = outputOf(transcript, "dir C:\\Windows\\System32\\*.exe");
    expect(exes).toContain(" Directory of C:\\Windows\\System32\n");
    expect(exes).toMatch(/ cmd\.exe\n/);
    expect(exes).toMatch(/ userinit\.exe\n {15}2 File\(s\)/);
    expect(exes).not.toContain("win32k.sys");
    expect(outputOf(transcript, "dir *.none")).toBe(" Volume in drive C has no label.\n\n Directory of C:\\Users\\User\n\n");
    expect(outputOf(transcript, "dir C:\\nosuch\\x")).toBe(" Volume in drive C has no label.\n\n");
  });

  it("types a file, and says which files and paths it cannot find", () => {
    expect(outputOf(transcript, "type notes.txt")).toBe(NOTES);
    expect(outputOf(transcript, "type missing.txt")).toBe("");
    expect(session.stderr).toBe(
      [
        "Environment variable GREETING not defined",
        "Environment variable NOPE_PREFIX not defined",
        "The system cannot find the path specified.",
        "The directory name is invalid.",
        "File Not Found",
        "The system cannot find the path specified.",
        "The system cannot find the file specified.",
        "'frobnicate' is not recognized as an internal or external command,\noperable program or batch file.",
        "The logoff request could not be sent: csrss does not answer on \\Sessions\\1\\Windows\\ApiPort (ENOENT).",
        "",
      ].join("\n"),
    );
  });

  it("shows the version from the SOFTWARE hive", () => {
    expect(outputOf(transcript, "ver")).toBe("\nsmss86 [Version 6.1.7601]\n");
  });

  it("runs a program along Path with its arguments and environment, and keeps its exit code in ERRORLEVEL", () => {
    const shown = JSON.parse(outputOf(transcript, 'show 3 "a b"'));
    expect(shown).toMatchObject({ argv: ["show", "3", "a b"], cwd: "/Users/User", uid: 1000 });
    expect(shown.environ).toContain("USERNAME=User");
    expect(shown.environ).not.toContain("GREETING=Hello World");
    expect(outputOf(transcript, "echo %ERRORLEVEL%")).toBe("3\n");
  });

  it("reads no further than the line it runs, from a file or a pipe: the next line is the program's", () => {
    expect(JSON.parse(outputOf(transcript, "show 0 read")).stdinLine).toBe("typed for show");
    expect(transcript).not.toContain(">typed for show");
    const piped = results[8];
    expect(piped).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(outputOf(piped.stdout, "show 0 read")).stdinLine).toBe("typed for show");
    expect(piped.stdout.endsWith("C:\\>echo after\nafter\n\nC:\\>")).toBe(true);
  });

  it("lists processes with their sessions and users, cmd itself as the user", () => {
    const cmdPid = JSON.parse(outputOf(transcript, 'show 3 "a b"')).ppid as number;
    const lines = outputOf(transcript, "tasklist").split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "",
      "Image Name                     PID    Session#    Mem Usage User Name",
      `========================= ======== =========== ============ ${"=".repeat(20)}`,
    ]);
    // The columns by their places: image 0-24, PID 26-33, session 35-45, memory 47-58, user 60-.
    const rows = lines.slice(3, -1).map((line) => ({
      image: line.slice(0, 25).trimEnd(),
      pid: Number(line.slice(26, 34)),
      session: Number(line.slice(35, 46)),
      memory: line.slice(47, 59).trimStart(),
      user: line.slice(60),
    }));
    const memory = expect.stringMatching(/^[1-9][\d,]* K$/);
    expect(rows[0]).toEqual({ image: "init.exe", pid: 1, session: 0, memory, user: "NT AUTHORITY\\SYSTEM" });
    expect(rows.filter((row) => row.image === "logon.exe")).toEqual([{ image: "logon.exe", pid: expect.any(Number), session: 1, memory, user: "NT AUTHORITY\\SYSTEM" }]);
    expect(rows.filter((row) => row.image === "cmd.exe")).toEqual([{ image: "cmd.exe", pid: cmdPid, session: 1, memory, user: "SMSS86\\User" }]);
    expect(lines.at(-1)).toBe("");
  });

  it("says a command is unknown, and that logoff cannot reach csrss, and goes on", () => {
    expect(outputOf(transcript, "frobnicate now")).toBe("");
    expect(outputOf(transcript, "logoff")).toBe("");
    expect(outputOf(transcript, "help ver")).toBe("VER            Displays the Windows version.\n");
    // An empty line shows the prompt again without a blank line.
    expect(transcript).toContain("C:\\Users\\User>\nC:\\Users\\User>exit 5\n");
  });

  it("shutdown: refuses what it does not support, reports a refusal, then waits to be ended", () => {
    const shutdown = results[3];
    expect(shutdown.stderr).toBe(
      "SHUTDOWN /r is not supported.\nUsage: SHUTDOWN [/S] [/T 0] shuts the machine down; SHUTDOWN /L logs off.\n" +
        "The shutdown request was refused: status 0xC0000022 (STATUS_ACCESS_DENIED).\n",
    );
    expect(shutdown.stdout).not.toContain("not reached");
    // Ended by the stand-in's SIGTERM, as winlogon ends a session's processes.
    expect(shutdown.code).toBe(128 + 15);
    expect(requests.slice(0, 2)).toEqual([
      { request: { action: "shutdown", dll: 3, api: 0 }, uid: 1000 },
      { request: { action: "shutdown", dll: 3, api: 0 }, uid: 1000 },
    ]);
  });

  it("logoff: sends ExitWindows and exits 0", () => {
    expect(results[5]).toMatchObject({ code: 0, stderr: "" });
    expect(results[5].stdout).not.toContain("not reached");
    expect(requests[2]).toEqual({ request: { action: "logoff", dll: 3, api: 0 }, uid: 1000 });
    expect(requests).toHaveLength(3);
  });

  it("/C runs one command and exits with its ERRORLEVEL; /Q drops the prompt", () => {
    expect(results[6].code).toBe(4);
    expect(JSON.parse(results[6].stdout)).toMatchObject({ argv: ["show", "4"] });
    expect(results[7]).toMatchObject({ code: 0, stdout: "quiet\n", stderr: "" });
    expect(results[9]).toMatchObject({ code: 0, stderr: "The input line is too long.\n" });
    expect(results[9].stdout).toMatch(/^smss86 \[Version 6\.1\.7601\]\n\nafter\n/);
  });
});

describe("userinit.exe in the emulated PC", () => {
  const USERINIT = "/Windows/System32/userinit.exe";
  const NO_SHELL = "userinit: cannot read the shell from the SOFTWARE hive:";
  let results: GuestResult[];

  /** A SOFTWARE hive with only the Winlogon values given (none: no Winlogon key at all). */
  const softwareHive = (winlogon?: Record<string, string>) => {
    const hive = Hive.create();
    hive.createKey("Microsoft\\Windows NT\\CurrentVersion");
    if (winlogon !== undefined) {
      const key = hive.createKey(WINLOGON_KEY);
      for (const [name, text] of Object.entries(winlogon)) key.setValue(name, REG_SZ, encodeString(text));
    }
    return hive.toBytes();
  };

  beforeAll(async () => {
    const elsewhere = USER_ENVIRONMENT.map((entry) => (entry.startsWith("USERPROFILE=") ? "USERPROFILE=C:\\Users\\Nobody" : entry));
    const run = await runInGuest(
      {
        ...(await machineFiles()),
        "/t/show.hive": softwareHive({ Userinit: "C:\\Windows\\system32\\userinit.exe,", Shell: 'show.exe 7 "two words"' }),
        "/t/nosuch.hive": softwareHive({ Shell: "nosuch" }),
        "/t/nowinlogon.hive": softwareHive(),
        "/t/default.hive": buildHive(readFileSync(SOFTWARE_REG), SOFTWARE_REG),
        "/Users/User/readme.txt": "",
      },
      [
        { argv: ["/t/setup.exe", "init"] },
        { argv: ["/t/setup.exe", "software", "/t/show.hive"] },
        asUser("/", [USERINIT]),
        asUser("/", [USERINIT], "", elsewhere),
        { argv: ["/t/setup.exe", "software", "/t/nosuch.hive"] },
        asUser("/", [USERINIT]),
        { argv: ["/t/setup.exe", "software", "/t/nowinlogon.hive"] },
        asUser("/", [USERINIT]),
        { argv: ["/t/setup.exe", "software", "none"] },
        asUser("/", [USERINIT]),
        { argv: ["/t/setup.exe", "software", "/t/default.hive"] },
        asUser("/", [USERINIT], "ver\nexit 4\n"),
      ],
    );
    results = run.results;
    for (const index of [0, 1, 4, 6, 8, 10]) expect(results[index], `setup command ${index}`).toMatchObject({ code: 0, stderr: "" });
  }, 180_000);

  it("starts the Shell found along Path in the user's profile, with the user's environment, and passes its exit code", () => {
    expect(results[2]).toMatchObject({ code: 7, stderr: "" });
    const shown = JSON.parse(results[2].stdout);
    expect(shown).toMatchObject({ argv: ["show.exe", "7", "two words"], cwd: "/Users/User", uid: 1000 });
    expect(shown.environ).toEqual(USER_ENVIRONMENT);
  });

  it("starts it in C:\\ when the profile directory does not exist", () => {
    expect(results[3].code).toBe(7);
    expect(JSON.parse(results[3].stdout).cwd).toBe("/");
  });

  it("says so and exits 1 when the Shell cannot be found or read, or there is no SOFTWARE hive", () => {
    expect(results[5]).toMatchObject({ code: 1, stdout: "", stderr: "userinit: the shell nosuch.exe (Shell = nosuch) is not along Path or in \\SystemRoot\\System32\n" });
    expect(results[7]).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `${NO_SHELL} HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon: the key is missing\n`,
    });
    expect(results[9]).toMatchObject({ code: 1, stdout: "", stderr: `${NO_SHELL} \\SystemRoot\\System32\\config\\SOFTWARE: the hive file does not exist\n` });
  });

  it("starts cmd.exe from the default hive, which takes the user's input and exit code", () => {
    expect(results[11]).toMatchObject({
      code: 4,
      stdout: "smss86 [Version 6.1.7601]\n\nC:\\Users\\User>ver\n\nsmss86 [Version 6.1.7601]\n\nC:\\Users\\User>exit 4\n",
      stderr: "",
    });
  });
});
