// The consistency check behind Hive.check(): counts cells, walks every key, and reports what Windows would
// object to (unsorted lists, wrong hashes, "largest" fields too small, security cell links and reference
// counts) without stopping at the first problem.

import { BASE_BLOCK_SIZE } from "./base-block.ts";
import { NO_CELL, type CellStore } from "./cells.ts";
import { HiveError } from "./errors.ts";
import type { Hive } from "./hive.ts";
import {
  DATA_INLINE,
  KEY_COMP_NAME,
  NK,
  SIG_LH,
  SIG_LI,
  SIG_RI,
  SK,
  VK,
  type HiveKey,
  hex,
  isBigData,
  nameHint,
  readBigDataHeader,
  readName,
  validateSecurityCell,
} from "./nodes.ts";
import { compareNames, lhHash } from "./upcase.ts";
import { quote } from "./text.ts";

export interface HiveCheckReport {
  hbins: number;
  cells: number;
  freeCells: number;
  allocatedBytes: number;
  freeBytes: number;
  keys: number;
  values: number;
  securityCells: number;
  bigDataValues: number;
  /** Allocated cells no key, value, list or security record refers to (space leaked, not an error). */
  unreferencedCells: number;
  /** Structural problems found (empty when the hive is consistent), each naming an offset. */
  problems: string[];
}


export function checkHive(hive: Hive): HiveCheckReport {
  const cells = hive.cells;
  const report: HiveCheckReport = {
    hbins: 0,
    cells: 0,
    freeCells: 0,
    allocatedBytes: 0,
    freeBytes: 0,
    keys: 0,
    values: 0,
    securityCells: 0,
    bigDataValues: 0,
    unreferencedCells: 0,
    problems: [],
  };
  const allocated = new Set<number>();
  report.hbins = cells.forEachCell((rel, size, isAllocated) => {
    report.cells++;
    if (isAllocated) {
      allocated.add(rel);
      report.allocatedBytes += size;
    } else {
      report.freeCells++;
      report.freeBytes += size;
    }
  });
  const referenced = new Set<number>();
  const problem = (rel: number, text: string): void => {
    report.problems.push(`offset ${hex(rel + BASE_BLOCK_SIZE)}: ${text}`);
  };
  const refer = (rel: number, what: string): void => {
    if (!allocated.has(rel)) problem(rel, `${what} is not an allocated cell`);
    else if (referenced.has(rel)) problem(rel, `${what} is referenced more than once`);
    referenced.add(rel);
  };
  const securityUse = new Map<number, number>();
  const pending: HiveKey[] = [hive.root];
  while (pending.length > 0) {
    const key = pending.pop() as HiveKey;
    report.keys++;
    const nk = key.offset;
    const d = nk + 4;
    refer(nk, "key node");
    try {
      const children = key.subkeys();
      let previous: string | undefined;
      let maxName = 0;
      let maxClass = 0;
      for (const child of children) {
        const name = child.name;
        if (previous !== undefined && compareNames(previous, name) >= 0) problem(nk, `subkeys ${quote(previous)} and ${quote(name)} are out of order`);
        previous = name;
        maxName = Math.max(maxName, name.length * 2);
        maxClass = Math.max(maxClass, cells.u16(child.offset + 4 + NK.classLength));
        if (cells.u32(child.offset + 4 + NK.parent) !== nk) problem(child.offset, `key ${quote(name)} does not point back to its parent`);
        pending.push(child);
      }
      if (children.length > 0) checkSubkeyList(cells, cells.u32(d + NK.subkeyList), refer, problem, true);
      if ((cells.u32(d + NK.maxNameLength) & 0xffff) < maxName) problem(nk, "largest subkey name length is too small");
      if (cells.u32(d + NK.maxClassLength) < maxClass) problem(nk, "largest subkey class length is too small");
      const values = key.values();
      if (values.length > 0) refer(cells.u32(d + NK.valueList), "value list");
      let maxValueName = 0;
      let maxValueData = 0;
      for (const value of values) {
        report.values++;
        refer(value.offset, "value");
        maxValueName = Math.max(maxValueName, value.name.length * 2);
        maxValueData = Math.max(maxValueData, value.dataLength);
        value.data;
        referValueData(cells, value.offset, hive.usesBigData, refer, report);
      }
      if (cells.u32(d + NK.maxValueNameLength) < maxValueName) problem(nk, "largest value name length is too small");
      if (cells.u32(d + NK.maxValueDataLength) < maxValueData) problem(nk, "largest value data size is too small");
      const sk = cells.u32(d + NK.security);
      key.securityDescriptor;
      securityUse.set(sk, (securityUse.get(sk) ?? 0) + 1);
      const classCell = cells.u32(d + NK.classCell);
      if (classCell !== NO_CELL && cells.u16(d + NK.classLength) > 0) {
        key.className;
        refer(classCell, "class name");
      }
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      report.problems.push(error.message);
    }
  }
  // Security cells: one circular doubly linked list, each reference count equal to its users.
  const first = cells.u32(hive.root.offset + 4 + NK.security);
  let sk = first;
  const seen = new Set<number>();
  do {
    if (seen.has(sk)) {
      problem(sk, "security list loops without returning to its start");
      break;
    }
    seen.add(sk);
    try {
      validateSecurityCell(cells, sk);
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      report.problems.push(error.message);
      break;
    }
    refer(sk, "security cell");
    const next = cells.u32(sk + 4 + SK.flink);
    if (next < cells.binsSize && allocated.has(next) && cells.u32(next + 4 + SK.blink) !== sk) {
      problem(next, "security cell's backward link does not match");
    }
    const count = cells.u32(sk + 4 + SK.referenceCount);
    const used = securityUse.get(sk) ?? 0;
    if (count !== used) problem(sk, `security cell reference count ${count}, but ${used} keys use it`);
    sk = next;
  } while (sk !== first);
  report.securityCells = seen.size;
  for (const used of securityUse.keys()) if (!seen.has(used)) problem(used, "security cell in use is not on the security list");
  for (const rel of allocated) if (!referenced.has(rel)) report.unreferencedCells++;
  return report;
}

function checkSubkeyList(
  cells: CellStore,
  list: number,
  refer: (rel: number, what: string) => void,
  problem: (rel: number, text: string) => void,
  rootAllowed: boolean,
): void {
  refer(list, "subkey list");
  const signature = cells.u16(list + 4);
  const n = cells.u16(list + 6);
  if (signature === SIG_RI) {
    if (!rootAllowed) problem(list, "index root inside an index root");
    for (let i = 0; i < n; i++) checkSubkeyList(cells, cells.u32(list + 8 + i * 4), refer, problem, false);
    return;
  }
  if (signature === SIG_LI) return;
  for (let i = 0; i < n; i++) {
    const nk = cells.u32(list + 8 + i * 8);
    const stored = cells.u32(list + 12 + i * 8);
    const compressed = (cells.u16(nk + 4 + NK.flags) & KEY_COMP_NAME) !== 0;
    const name = readName(cells, nk + 4 + NK.name, cells.u16(nk + 4 + NK.nameLength), compressed);
    let matches: boolean;
    if (signature === SIG_LH) matches = stored === lhHash(name);
    else {
      // lf hints keep the name's case, and Windows converts non-ASCII characters through a code page we
      // do not model: only ASCII hints are checked, case-insensitively.
      const expected = nameHint(name);
      matches = !/^[\x00-\x7f]*$/.test(name.slice(0, 4)) || (stored | 0x20202020) === (expected | 0x20202020);
    }
    if (!matches) problem(list, `${signature === SIG_LH ? "hash" : "hint"} of entry ${i} (${quote(name)}) is wrong`);
  }
}

function referValueData(
  cells: CellStore,
  vk: number,
  bigData: boolean,
  refer: (rel: number, what: string) => void,
  report: HiveCheckReport,
): void {
  const rawSize = cells.u32(vk + 4 + VK.dataSize);
  const length = rawSize & ~DATA_INLINE;
  if ((rawSize & DATA_INLINE) !== 0 || length === 0) return;
  const dataOffset = cells.u32(vk + 4 + VK.dataOffset);
  refer(dataOffset, "value data");
  if (!isBigData(length, bigData)) return;
  report.bigDataValues++;
  const [list, segments] = readBigDataHeader(cells, dataOffset, length);
  refer(list, "big data segment list");
  for (let i = 0; i < segments; i++) refer(cells.u32(list + 4 + i * 4), "big data segment");
}

