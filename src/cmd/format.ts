// The layouts of cmd's listings, column for column as Windows 7 prints them in the en-US locale: dir's
// entries and totals, tasklist's table.
import { monthDayYear } from "./parse.ts";

/** 1234567 → "1,234,567" (sizes and counts: never negative) */
export function groupThousands(value: number): string {
  const digits = String(Math.trunc(value));
  let out = "";
  for (let end = digits.length; end > 0; end -= 3) out = digits.slice(Math.max(0, end - 3), end) + (out === "" ? "" : `,${out}`);
  return out;
}

/** "01/02/2026  01:05 PM": an entry's modification time as dir shows it (local time, 12-hour clock). */
export function dirTimestamp(date: Date): string {
  const hours = date.getHours() % 12 === 0 ? 12 : date.getHours() % 12;
  const minutes = String(date.getMinutes()).padStart(2, "0");
  return `${monthDayYear(date)}  ${String(hours).padStart(2, "0")}:${minutes} ${date.getHours() < 12 ? "AM" : "PM"}`;
}

export type DirEntry = { name: string; modified: Date } & ({ directory: true } | { directory: false; size: number });

/** One entry: timestamp, `<DIR>` or the size right-aligned, then the name at column 40. */
export function dirEntryLine(entry: DirEntry): string {
  const middle = entry.directory ? "    <DIR>          " : `${groupThousands(entry.size).padStart(18)} `;
  return `${dirTimestamp(entry.modified)}${middle}${entry.name}`;
}

/** "               1 File(s)              5 bytes" */
export function dirFilesLine(count: number, bytes: number): string {
  return `${String(count).padStart(16)} File(s) ${groupThousands(bytes).padStart(14)} bytes`;
}

/** "               2 Dir(s)     20,480,000 bytes free" */
export function dirDirsLine(count: number, freeBytes: number): string {
  return `${String(count).padStart(16)} Dir(s) ${groupThousands(freeBytes).padStart(15)} bytes free`;
}

export interface TaskRow {
  image: string;
  pid: number;
  session: number;
  memoryKiB: number;
  user: string;
}

/**
 * tasklist's table: a blank line, the header, the rule, then a row a process. Windows' columns (Image Name 25
 * wide, PID 8, Session# 11, Mem Usage 12) and User Name last, so that no line ends in padding; Windows' Session
 * Name column (16 wide) is left out so that a row with a user of up to 20 characters fits an 80-column console
 * (Windows 7's), and the session name says nothing Session# does not. A longer image name is cut to the
 * column, as Windows cuts it.
 */
export function tasklistTable(rows: readonly TaskRow[]): string {
  const line = (image: string, pid: string, session: string, memory: string, user: string) =>
    `${image.slice(0, 25).padEnd(25)} ${pid.padStart(8)} ${session.padStart(11)} ${memory.padStart(12)} ${user}`;
  const out = ["", line("Image Name", "PID", "Session#", "Mem Usage", "User Name")];
  out.push(["=".repeat(25), "=".repeat(8), "=".repeat(11), "=".repeat(12), "=".repeat(20)].join(" "));
  for (const row of rows) out.push(line(row.image, String(row.pid), String(row.session), `${groupThousands(row.memoryKiB)} K`, row.user));
  return out.join("\n") + "\n";
}
