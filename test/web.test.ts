// The machine in a browser: `smss86 web` serves the page, and Debian's Chromium (driven by playwright-core)
// uses it as a person would: watches it boot, types on the console, edits the SYSTEM hive and boots with it,
// downloads what it offers, saves the machine's state and starts from it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openVolume } from "../emulator/disk/image.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { decodeSnapshot, encodeSnapshot, V86_VERSION } from "../emulator/snapshot.ts";
import { SYSTEM_HIVE_PATH } from "../emulator/web/hive-disk.ts";
import { Hive } from "../src/hive/index.ts";
import { DONE_ON_A_GOOD_BOOT } from "./phases.ts";

const CHROMIUM = "/usr/bin/chromium";
/**
 * Flags for a quiet, self-contained browser: no sandbox (the tests run as root), no GPU, no network of its
 * own. Playwright adds its own headless flag; a second --headless here makes its screenshots hang.
 */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // The page's machine runs on timers: Chromium slows those of a page it thinks is in the background (after
  // a download or a file chooser, say). Without these, the state round trip below took about 30 s, with them 7 s.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];
const BOOT_TIMEOUT_MS = 90_000;
const ENVIRONMENT_KEY = "ControlSet001\\Control\\Session Manager\\Environment";

let server: ChildProcess;
let url: string;
let context: BrowserContext;
let page: Page;
/** Every URL the page asked for. */
const requested: string[] = [];
/** Downloads (state files are about 130 MB) and Chromium's profile, removed afterwards. */
const downloads = mkdtempSync(join(tmpdir(), "smss86-web-"));
const profile = mkdtempSync(join(tmpdir(), "smss86-chromium-"));

beforeAll(async () => {
  server = spawn(process.execPath, ["bin/smss86.cjs", "web", "--port", "0"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    server.on("exit", (code) => reject(new Error(`smss86 web exited (${code}) before serving: ${stderr}`)));
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (request) => requested.push(request.url()));
  await page.goto(url);
  await waitForEvent("ready", "done");
});

afterAll(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  rmSync(downloads, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

function waitForEvent(phase: string, status: string): Promise<unknown> {
  return page.waitForSelector(`#events li[data-phase="${phase}"][data-status="${status}"]`, { timeout: BOOT_TIMEOUT_MS });
}

/** The text xterm.js shows (its DOM renderer draws the visible rows as elements). */
function terminalText(): Promise<string> {
  return page.locator(".xterm-rows").innerText();
}

async function typeOnConsole(line: string): Promise<void> {
  await page.locator("#terminal .xterm").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

/** How often the terminal shows `text` (the page keeps one terminal across machines). */
async function countInTerminal(text: string): Promise<number> {
  return (await terminalText()).split(text).length - 1;
}

/** Logs User on at winlogon's prompt (the page holds keys typed before it) and waits for the shell's prompt. */
async function logOnInTerminal(): Promise<void> {
  const shells = await countInTerminal("C:\\Users\\User>");
  await typeOnConsole("User");
  await typeOnConsole("password");
  await expect.poll(() => countInTerminal("C:\\Users\\User>"), { timeout: 60_000 }).toBeGreaterThan(shells);
}

/** smss's phases among the events the page listed as done, in order. */
function smssPhases(phases: string[]): string[] {
  return phases.filter((phase) => DONE_ON_A_GOOD_BOOT.includes(phase));
}

async function downloadFrom(buttonId: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(`#${buttonId}`)]);
  const file = join(downloads, download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

async function replaceHiveText(text: string): Promise<void> {
  await page.locator("#hive-text").fill(text);
}

const defaultRegText = readFileSync(join(REPO_ROOT, "images", "hives", "SYSTEM.reg"), "utf8");

describe("smss86 web in Chromium", () => {
  it("boots the default disk to the logon prompt, with the screen, the timeline and the events on the page", async () => {
    await expect.poll(() => page.locator("#status").textContent()).toBe("running: default disk");
    await waitForEvent("logon-prompt", "done");
    const phases = await page.locator('#events li[data-status="done"] .phase').allTextContents();
    expect(smssPhases(phases)).toEqual(DONE_ON_A_GOOD_BOOT);
    expect(phases).toContain("logon-prompt");
    // v86's screen adapter draws the VGA text screen into the page: SeaBIOS prints only there.
    await expect.poll(() => page.locator("#screen").innerText()).toMatch(/SeaBIOS[\s\S]*smss86 loader/);
    // The page redraws the timeline a few times a second: the prompt's stage closes at the next redraw.
    await expect
      .poll(() => page.locator("#timeline svg").innerHTML(), { timeout: 10_000 })
      .toMatch(/Startup finished in .* \(BIOS\) \+ .* \(OS loader\) \+ .* \(PreSMSS\) \+ .* \(SMSSInit\) \+ .* \(WinlogonInit\)/);
    expect(await terminalText()).toMatch(/smss: Session Manager starting as pid 1/);
  });

  it("loads everything from the smss86 server: firmware, wasm and disk included", () => {
    const foreign = requested.filter((address) => !address.startsWith(url) && !/^(data|blob):/.test(address));
    expect(foreign).toEqual([]);
    for (const file of ["page.js", "files/seabios.bin", "files/vgabios.bin", "files/v86.wasm", "files/disk.img", "files/SYSTEM.reg"]) {
      expect(requested).toContain(url + file);
    }
  });

  it("sends keys typed into the terminal to the guest console: a logon, then a shell command", async () => {
    await logOnInTerminal();
    await typeOnConsole("ver");
    await expect.poll(async () => countInTerminal("smss86 [Version 6.1.7601]"), { timeout: 30_000 }).toBeGreaterThan(1);
  });

  it("downloads the console log and a JSON report of the run", async () => {
    const log = readFileSync(await downloadFrom("download-console"), "latin1");
    expect(log).toMatch(/smss86 loader: loading the kernel[\s\S]*smss: ready after \d+ ms[\s\S]*User name: User[\s\S]*C:\\Users\\User>ver\r?\n\r?\nsmss86 \[Version 6\.1\.7601\]/);
    const report = JSON.parse(readFileSync(await downloadFrom("download-report"), "utf8"));
    expect(report).toMatchObject({ result: "running", disk: "default disk", memoryMiB: 64 });
    expect(smssPhases(report.phases.filter((p: { status: string }) => p.status === "done").map((p: { phase: string }) => p.phase))).toEqual(DONE_ON_A_GOOD_BOOT);
    expect(report.bootMarks.kernelStart.instructions).toBeGreaterThan(report.bootMarks.loaderStart.instructions);
  });

  it("refuses a broken hive in the editor, with the error at its line, and keeps the machine running", async () => {
    const lines = defaultRegText.split("\n");
    const badLine = lines.indexOf('"BootDriverFlags"=dword:00000000') + 1;
    expect(badLine).toBeGreaterThan(1);
    lines[badLine - 1] = '"BootDriverFlags"=dword:not-a-number';
    await replaceHiveText(lines.join("\n"));
    await page.click("#hive-boot");
    const status = page.locator("#hive-status");
    await expect.poll(() => status.textContent()).toMatch(new RegExp(`^not booted: line ${badLine}: SYSTEM\\.reg:${badLine}:\\d+: .*dword`));
    expect(await status.getAttribute("data-ok")).toBe("false");
    expect(await page.locator("#hive-gutter .error").textContent()).toBe(String(badLine));
    // Nothing was restarted: the first boot's events are still there.
    expect(await page.locator("#status").textContent()).toBe("running: default disk");
    expect(await page.locator('#events li[data-phase="ready"][data-status="done"]').count()).toBe(1);
  });

  it("boots with an edited hive: the disk the guest ran on holds it", async () => {
    const keyLine = `[HKEY_LOCAL_MACHINE\\SYSTEM\\${ENVIRONMENT_KEY}]`;
    expect(defaultRegText).toContain(keyLine);
    await replaceHiveText(defaultRegText.replace(keyLine, `${keyLine}\n"SMSS86_WEB_TEST"="set in the browser"`));
    await expect.poll(() => page.locator("#hive-status").textContent()).toMatch(/^valid: \d+ keys/);
    await page.click("#hive-boot");
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 30_000 }).toBe("running: default disk, edited SYSTEM hive");
    await waitForEvent("ready", "done");

    const disk = new Uint8Array(readFileSync(await downloadFrom("download-disk")));
    const volume = openVolume(disk);
    const hive = Hive.open(volume.readFile(SYSTEM_HIVE_PATH));
    expect(hive.key(ENVIRONMENT_KEY)!.value("SMSS86_WEB_TEST")!.asString()).toBe("set in the browser");
    // The same disk carries what the guest wrote while booting with that hive.
    expect(new TextDecoder().decode(volume.readFile("/Windows/ntbtlog.txt"))).toMatch(/^BOOT 1 smss pid=1 /);
    // Once smss reports the environment it read from the hive, the page shows the edited variable.
    const environment = page.locator('#events li[data-phase="environment"][data-status="done"] .data');
    if ((await environment.count()) > 0) expect(await environment.getAttribute("title")).toContain("SMSS86_WEB_TEST");
  });

  it("resets the PC onto the disk as the guest left it: smss counts one more boot", async () => {
    const bootCount = async () => {
      const data = await page.locator('#events li[data-phase="volume-write"][data-status="done"] .data').getAttribute("title");
      return (JSON.parse(data!) as { boot: number }).boot;
    };
    const before = await bootCount();
    await page.click("#reset");
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 30_000 }).toBe("running: default disk, edited SYSTEM hive (reset)");
    await waitForEvent("ready", "done");
    expect(await bootCount()).toBe(before + 1);
  });

  it("saves the machine's state to a file and starts from it, where smss answers at once", async () => {
    const stateFile = await downloadFrom("save-state");
    // The CLI's snapshot format: a header naming what the machine was made from, then v86's state.
    const { header } = decodeSnapshot(new Uint8Array(readFileSync(stateFile)), stateFile);
    expect(header).toMatchObject({ memoryMiB: 64, diskName: "default disk, edited SYSTEM hive (reset)", v86: V86_VERSION });
    expect(header.phasesDone).toContain("ready");
    await page.setInputFiles("#state-file", stateFile);
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 60_000 }).toMatch(/^running: state file smss86-.*\.snapshot$/);
    expect(await page.locator("#events li.note").textContent()).toMatch(/started from a state file/);
    // No boot to chart: drawing one would call the time before the first console byte "BIOS".
    expect(await page.locator("#timeline").textContent()).toBe("started from a state file: the boot happened before the state was saved");
    const versions = await countInTerminal("smss86 [Version 6.1.7601]");
    await logOnInTerminal();
    await typeOnConsole("ver");
    await expect.poll(() => countInTerminal("smss86 [Version 6.1.7601]"), { timeout: 30_000 }).toBeGreaterThan(versions + 1);
    // The state carried the disk too: the page gave the new machine the default disk, yet the guest's disk is
    // the saved machine's, with the edited hive and both boots' log lines.
    const volume = openVolume(new Uint8Array(readFileSync(await downloadFrom("download-disk"))));
    expect(Hive.open(volume.readFile(SYSTEM_HIVE_PATH)).key(ENVIRONMENT_KEY)!.value("SMSS86_WEB_TEST")).toBeDefined();
    expect(new TextDecoder().decode(volume.readFile("/Windows/ntbtlog.txt"))).toMatch(/^BOOT 1 [^\n]*\nBOOT 2 /);
  });

  it("refuses a file that is not a machine state, saying why", async () => {
    const bogus = join(downloads, "notes.snapshot");
    writeFileSync(bogus, "these are not the bytes of a machine\n");
    await page.setInputFiles("#state-file", bogus);
    await expect.poll(() => page.locator("#status").textContent()).toBe('notes.snapshot: not an smss86 snapshot (it starts with 74 68 65 73 65 20 61 72, not "smss86 snapshot")');
  });

  it("refuses a snapshot made on another BIOS, naming it", async () => {
    const saved = await downloadFrom("save-state");
    const { header, state } = decodeSnapshot(new Uint8Array(readFileSync(saved)), saved);
    const other = join(downloads, "other-bios.snapshot");
    writeFileSync(other, encodeSnapshot({ ...header, bios: "0".repeat(64) }, state));
    await page.setInputFiles("#state-file", other);
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/^other-bios\.snapshot: made from another BIOS \(sha256 000000000000, not sha256 [0-9a-f]{12}\); not started$/);
  });

  it("pauses, resumes and powers off", async () => {
    await page.click("#pause");
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("paused");
    expect(await page.locator("#pause").textContent()).toBe("Resume");
    await page.click("#pause");
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("running");
    await page.click("#power-off");
    await expect.poll(() => page.locator("#status").textContent()).toBe("powered off from this page");
    expect(await page.locator("#pause").isDisabled()).toBe(true);
  });
});

describe("smss86 web, misused", () => {
  it("refuses a port that is not a number, with usage and exit 2", () => {
    const result = spawnSync(process.execPath, ["bin/smss86.cjs", "web", "--port", "eighty"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `smss86 web: option '--port <N>' argument 'eighty' is invalid. --port takes a TCP port number 0..65535 (0: any free port), not "eighty" (see "smss86 web --help")\n`,
    );
  });

  it("says so when the port is taken, exit 1", async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port)));
    try {
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["bin/smss86.cjs", "web", "--port", String(port)], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (status) => resolve({ status, stderr }));
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`smss86 web: cannot listen on 127.0.0.1:${port}: the port is in use\n`);
    } finally {
      blocker.close();
    }
  });
});
