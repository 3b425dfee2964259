// Vitest's global setup: every temporary file the tests make (their own, and the CLI's, QEMU's and
// Chromium's they start) goes below one directory of this run, removed when the run ends. The tests make
// theirs with mkdtemp under os.tmpdir() and many leave them (disk images, decompressed hives): 2 GB a run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "smss86-test-run-"));
  // Read by os.tmpdir() here and in every worker and child process started after this.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
