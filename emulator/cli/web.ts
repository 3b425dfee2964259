// `smss86 web [--port N]`: serves the browser page on localhost. The page is bundled by esbuild from
// emulator/web/page.ts (the same Machine, timeline and hive code as the CLI's) when the command starts, and
// every file it loads — firmware, v86's wasm, the default disk, the SYSTEM hive text — is served from here.
import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { build } from "esbuild";
import { ensureDefaultDisk } from "../../images/disk.ts";
import { loadFirmware, PREBUILT, REPO_ROOT } from "../node.ts";
import { action, type Settle } from "./common.ts";

const DEFAULT_PORT = 8086;
const HOST = "127.0.0.1";
/**
 * v86 reaches for these only under Node (behind `typeof process` / `typeof require` checks); in the page
 * they are never loaded, so the bundle leaves them as they are.
 */
const V86_NODE_ONLY_IMPORTS = ["crypto", "node:crypto", "fs", "node:fs/promises", "perf_hooks"];

type Served = { type: string } & ({ bytes: Uint8Array | string } | { file: string });

export function declareWeb(program: Command, settle: Settle): void {
  program
    .command("web")
    .summary("serve the machine as a web page on localhost")
    .description("serve the machine as a web page on localhost: console, VGA screen, boot timeline, hive editor, state files")
    .addOption(new Option("--port <N>", `TCP port (0: any free one)`).default(DEFAULT_PORT).argParser(port))
    .action(action("smss86 web", settle, (options: { port: number }) => serveWeb(options.port)));
}

function port(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new InvalidArgumentError(`--port takes a TCP port number 0..65535 (0: any free port), not "${text}"`);
  return Number(text);
}

async function serveWeb(port: number): Promise<number> {
  const log = (line: string) => process.stderr.write(`[smss86] ${line}\n`);
  const files = await collectFiles(log);
  const server = createServer((request, response) => serve(files, request, response));
  const listening = await new Promise<number | Error>((resolve) => {
    server.once("error", (err) => resolve(err));
    server.listen(port, HOST, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
  if (listening instanceof Error) {
    const code = (listening as NodeJS.ErrnoException).code;
    process.stderr.write(`smss86 web: cannot listen on ${HOST}:${port}: ${code === "EADDRINUSE" ? "the port is in use" : listening.message}\n`);
    return 1;
  }
  // On stdout, alone on its line: scripts (and the tests) read the address from here.
  process.stdout.write(`smss86 web: serving http://${HOST}:${listening}/ (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      // A browser keeps idle connections open; they would hold the server (and the process) up.
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}

async function collectFiles(log: (line: string) => void): Promise<Map<string, Served>> {
  const web = join(REPO_ROOT, "emulator", "web");
  const require = createRequire(import.meta.url);
  const bundle = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [join(web, "page.ts")],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    external: V86_NODE_ONLY_IMPORTS,
    logLevel: "silent",
  });
  const disk = await ensureDefaultDisk({ log });
  const firmware = loadFirmware();
  return new Map<string, Served>([
    ["/", { type: "text/html; charset=utf-8", file: join(web, "index.html") }],
    ["/page.js", { type: "text/javascript; charset=utf-8", bytes: bundle.outputFiles[0].contents }],
    ["/page.css", { type: "text/css; charset=utf-8", file: join(web, "page.css") }],
    ["/xterm.css", { type: "text/css; charset=utf-8", file: join(dirname(require.resolve("@xterm/xterm/package.json")), "css", "xterm.css") }],
    ["/files/seabios.bin", { type: "application/octet-stream", file: join(PREBUILT, "seabios.bin") }],
    ["/files/vgabios.bin", { type: "application/octet-stream", file: join(PREBUILT, "vgabios.bin") }],
    ["/files/v86.wasm", { type: "application/wasm", file: firmware.wasmPath }],
    ["/files/disk.img", { type: "application/octet-stream", file: disk }],
    ["/files/SYSTEM.reg", { type: "text/plain; charset=utf-8", file: join(REPO_ROOT, "images", "hives", "SYSTEM.reg") }],
  ]);
}

function serve(files: Map<string, Served>, request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const served = files.get(path === "/index.html" ? "/" : path);
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (!served) {
    response.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
    return;
  }
  // The page is for one person on this machine; caching would only serve stale bundles after a change.
  const headers = { "content-type": served.type, "cache-control": "no-store" };
  if ("bytes" in served) {
    const body = typeof served.bytes === "string" ? served.bytes : Buffer.from(served.bytes.buffer, served.bytes.byteOffset, served.bytes.byteLength);
    response.writeHead(200, { ...headers, "content-length": Buffer.byteLength(body) });
    response.end(request.method === "HEAD" ? undefined : body);
    return;
  }
  let size: number;
  try {
    size = statSync(served.file).size;
  } catch (err) {
    response.writeHead(500, { "content-type": "text/plain" }).end(`${served.file}: ${(err as Error).message}\n`);
    return;
  }
  response.writeHead(200, { ...headers, "content-length": size });
  if (request.method === "HEAD") response.end();
  else createReadStream(served.file).pipe(response);
}
