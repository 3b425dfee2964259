// Phase "renames": PendingFileRenameOperations, then ...2, as pairs in order (src/config/renames): an empty
// target deletes, a "!" or "@" target replaces an existing file (clearing its read-only attribute); paths
// go through the object namespace, and one that escapes its volume is refused; each failure is logged and
// the rest still run.
//
// Deviation from Windows, on purpose: Windows deletes both values before running anything, so a power cut
// in between loses the queue. Here the queue is never lost and no operation runs twice:
//  1. One hive commit moves the queue into PendingFileRenameJournal (the pairs as queued) and
//     PendingFileRenameProgress (one status per operation) and deletes both values.
//  2. Before an operation runs, a commit marks it "started:" with whether its target existed, together with
//     the previous operation's outcome; the file system is synced after each operation.
//  3. A commit deletes the journal when all are done.
// After a power cut the next boot (autochk first, which splits a rename cut half-way, two directory entries
// on one cluster chain, into two equal files) resumes: an operation marked started is judged by what the
// disk shows (source gone and target there: done; both there with equal contents, or a target that was not
// there before: the rename happened, the source left over is removed), and the rest run as usual.
import * as sys from "sys";
import { pairRenames, type RenameOperation } from "../../src/config/renames.ts";
import { ConfigError, multiStringValue, splitMultiString } from "../../src/config/values.ts";
import type { RenamesData } from "../../src/events/index.ts";
import { encodeMultiString, REG_MULTI_SZ } from "../../src/hive/index.ts";
import { NtPathError, ntObjectPath } from "../../src/ntpath/index.ts";
import type { SystemHive } from "./hive.ts";

const QUEUES = ["PendingFileRenameOperations", "PendingFileRenameOperations2"];
const JOURNAL = "PendingFileRenameJournal";
const PROGRESS = "PendingFileRenameProgress";
const PENDING = "pending";
/**
 * Operations run per boot. Each costs a hive commit (about 1e7 guest instructions): a queue of thousands
 * would hold the boot for hours, so the rest stay journaled for the next boot, and the event says so.
 */
export const MAX_RENAMES_PER_BOOT = 256;

type Outcome = { result: "done" | "failed"; reason?: string };

function isErrno(error: unknown, ...codes: string[]): error is sys.SysError {
  return error instanceof sys.SysError && codes.includes(error.code);
}

function lstatOrUndefined(path: string): sys.Stat | undefined {
  try {
    return sys.lstat(path);
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined;
    throw error;
  }
}

function isDirectory(stat: sys.Stat): boolean {
  return (stat.mode & sys.S_IFMT) === sys.S_IFDIR;
}

function sameContents(a: string, b: string): boolean {
  const [statA, statB] = [sys.stat(a), sys.stat(b)];
  if (isDirectory(statA) || isDirectory(statB) || statA.size !== statB.size) return false;
  const [bytesA, bytesB] = [sys.readFile(a), sys.readFile(b)];
  return bytesA.every((byte, index) => byte === bytesB[index]);
}

function paths(op: RenameOperation): { source: string; target?: string } {
  return { source: ntObjectPath(op.source), ...(op.kind === "rename" ? { target: ntObjectPath(op.target) } : {}) };
}

function perform(op: RenameOperation): Outcome {
  const { source, target } = paths(op);
  const sourceStat = lstatOrUndefined(source);
  if (sourceStat === undefined) return { result: "failed", reason: "the source does not exist" };
  if (target === undefined) {
    if (isDirectory(sourceStat)) sys.rmdir(source);
    else sys.unlink(source);
    return { result: "done" };
  }
  const targetStat = lstatOrUndefined(target);
  if (targetStat !== undefined) {
    if (!op.replaceExisting) return { result: "failed", reason: "the target exists and the operation does not say to replace it (! or @)" };
    if ((targetStat.mode & 0o200) === 0) sys.chmod(target, (targetStat.mode & 0o7777) | 0o200);
  }
  sys.rename(source, target);
  return { result: "done" };
}

/** An operation a power cut interrupted: finish it from what the disk shows. */
function resume(op: RenameOperation, targetExisted: boolean): Outcome {
  const { source, target } = paths(op);
  const sourceThere = lstatOrUndefined(source) !== undefined;
  if (target === undefined) return sourceThere ? perform(op) : { result: "done" };
  const targetThere = lstatOrUndefined(target) !== undefined;
  if (!sourceThere) return targetThere ? { result: "done" } : { result: "failed", reason: "source and target are both gone after an interrupted rename" };
  if (targetThere && (!targetExisted || sameContents(source, target))) {
    sys.unlink(source);
    return { result: "done" };
  }
  return perform(op);
}

function guarded(action: () => Outcome): Outcome {
  try {
    return action();
  } catch (error) {
    if (error instanceof NtPathError) return { result: "failed", reason: error.message };
    if (isErrno(error, "EXDEV")) return { result: "failed", reason: "source and target are not on the same volume" };
    if (error instanceof sys.SysError) return { result: "failed", reason: `${error.syscall}: ${error.code}` };
    throw error;
  }
}

export function processPendingRenames(system: SystemHive): RenamesData {
  const key = system.sessionManager.key;
  const displayPath = system.sessionManager.displayPath;
  const commitsBefore = system.commits;
  const problems: string[] = [];
  const read = (name: string) => {
    const value = key.value(name);
    if (value === undefined) return [];
    if (value.type === REG_MULTI_SZ) return splitMultiString(value.data);
    try {
      return multiStringValue(value, displayPath);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(`${error.message}; ignored and deleted`);
      return [];
    }
  };
  let journal = read(JOURNAL);
  let progress = read(PROGRESS);
  const queued = QUEUES.flatMap(read);
  const queuedPresent = QUEUES.some((name) => key.value(name) !== undefined);
  if (journal.length === 0 && !queuedPresent) return { operations: [], finishedBefore: 0, commits: 0, problems };

  const saveProgress = () => key.setValue(PROGRESS, REG_MULTI_SZ, encodeMultiString(progress));
  if (queuedPresent) {
    // A journal left by a cut boot comes first; pairs queued since go after it.
    journal = [...journal.slice(0, journal.length - (journal.length % 2)), ...queued];
    const { operations } = pairRenames(journal);
    progress = operations.map((_, index) => progress[index] ?? PENDING);
    key.setValue(JOURNAL, REG_MULTI_SZ, encodeMultiString(journal));
    saveProgress();
    for (const name of QUEUES) key.deleteValue(name);
    system.commit();
  }

  const { operations } = pairRenames(journal);
  const results: RenamesData["operations"] = [];
  let ran = 0;
  let finishedBefore = 0;
  for (const op of operations) {
    const status = progress[op.index] ?? PENDING;
    const record = (outcome: Outcome, resumed: boolean) =>
      results.push({ index: op.index, source: op.source, target: op.target, kind: op.kind, ...outcome, ...(resumed ? { resumed } : {}) });
    if (status === "done" || status.startsWith("failed:")) {
      finishedBefore++;
      continue;
    }
    if (ran === MAX_RENAMES_PER_BOOT) {
      problems.push(`${operations.length - op.index} operations left journaled for the next boot (at most ${MAX_RENAMES_PER_BOOT} run per boot)`);
      saveProgress();
      system.commit();
      return { operations: results, finishedBefore, commits: system.commits - commitsBefore, problems };
    }
    ran++;
    let outcome: Outcome;
    if (status.startsWith("started:")) {
      outcome = guarded(() => resume(op, status === "started:target-existed"));
    } else {
      let targetExisted = false;
      try {
        targetExisted = op.kind === "rename" && lstatOrUndefined(ntObjectPath(op.target)) !== undefined;
      } catch (error) {
        if (!(error instanceof NtPathError)) throw error;
      }
      progress[op.index] = `started:${targetExisted ? "target-existed" : "target-absent"}`;
      saveProgress();
      system.commit();
      outcome = guarded(() => perform(op));
    }
    sys.sync();
    progress[op.index] = outcome.result === "done" ? "done" : `failed:${outcome.reason}`;
    saveProgress();
    record(outcome, status !== PENDING);
  }
  key.deleteValue(JOURNAL);
  key.deleteValue(PROGRESS);
  system.commit();
  return { operations: results, finishedBefore, commits: system.commits - commitsBefore, problems };
}
