// What cmd.exe reads from a typed line before acting on it, kept apart from the guest so that the host
// tests it: the command word, prompt codes and wildcards, as Windows' cmd reads them.

/**
 * Characters that end a built-in command's name without a space (`echo.`, `cd..`, `cd\`, `dir/b`), as cmd
 * ends them; an external program's name runs to white space.
 */
const NAME_DELIMITERS = "./\\(:+=,;[]";

export interface CommandWord {
  /** The word as a built-in command would be named: up to white space or a delimiter, e.g. "echo" in "echo.". */
  builtin: string;
  /** The line after that name, delimiter included: what a built-in command is given. */
  rest: string;
}

function isBlank(char: string): boolean {
  return char === " " || char === "\t";
}

/**
 * The first word of a command line: leading white space and `@` (cmd's "do not echo" mark) are skipped; a
 * word opening with a quote names an external program only (its builtin name is empty).
 */
export function commandWord(line: string): CommandWord {
  let start = 0;
  while (start < line.length && (isBlank(line[start]) || line[start] === "@")) start++;
  if (line[start] === '"') return { builtin: "", rest: line.slice(start) };
  let end = start;
  while (end < line.length && !isBlank(line[end]) && !NAME_DELIMITERS.includes(line[end])) end++;
  return { builtin: line.slice(start, end), rest: line.slice(end) };
}

export interface PromptFacts {
  /** The current directory, e.g. C:\Users\User. */
  currentDirectory: string;
  now: Date;
  /** What $V shows: the version line, e.g. "smss86 [Version 6.1.7601]". */
  version: string;
}

/**
 * PROMPT's $ codes as cmd expands them: $P current directory, $G >, $L <, $B |, $Q =, $A &, $C (, $F ), $S
 * space, $$ $, $_ new line, $E escape, $H backspace, $N drive, $D date, $T time, $V version, $+ the pushd
 * depth (always empty: there is no pushd). An unknown code shows nothing, and so does a $ at the end.
 */
export function expandPrompt(template: string, facts: PromptFacts): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  const codes: Record<string, () => string> = {
    p: () => facts.currentDirectory,
    g: () => ">",
    l: () => "<",
    b: () => "|",
    q: () => "=",
    a: () => "&",
    c: () => "(",
    f: () => ")",
    s: () => " ",
    $: () => "$",
    _: () => "\n",
    e: () => "\x1b",
    h: () => "\b",
    n: () => facts.currentDirectory.slice(0, 1),
    d: () => dayDate(facts.now),
    t: () => `${String(facts.now.getHours()).padStart(2, " ")}:${pad(facts.now.getMinutes())}:${pad(facts.now.getSeconds())}.${pad(Math.floor(facts.now.getMilliseconds() / 10))}`,
    v: () => facts.version,
    "+": () => "",
  };
  let out = "";
  for (let at = 0; at < template.length; at++) {
    if (template[at] !== "$") {
      out += template[at];
      continue;
    }
    at++;
    if (at < template.length) out += codes[template[at].toLowerCase()]?.() ?? "";
  }
  return out;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** "Thu 01/01/2026": $D and %DATE% in the en-US format. */
export function dayDate(date: Date): string {
  return `${DAYS[date.getDay()]} ${monthDayYear(date)}`;
}

/** "01/01/2026" */
export function monthDayYear(date: Date): string {
  return `${String(date.getMonth() + 1).padStart(2, "0")}/${String(date.getDate()).padStart(2, "0")}/${date.getFullYear()}`;
}

/**
 * A file name against a pattern with `*` (any run of characters) and `?` (any one character), without
 * regard to case, as dir matches names on FAT: `*.*` is every name, and a pattern ending in `.` (`*.`)
 * matches names without an extension.
 */
export function matchesWildcard(name: string, pattern: string): boolean {
  if (pattern === "*.*") return true;
  const subject = (pattern.endsWith(".") && !name.includes(".") ? `${name}.` : name).toLowerCase();
  const wanted = pattern.toLowerCase();
  // Backtracking over the last `*` only: linear in practice for names of a directory entry's length.
  let at = 0;
  let p = 0;
  let starAt = -1;
  let starSubject = 0;
  while (at < subject.length) {
    if (p < wanted.length && (wanted[p] === "?" || wanted[p] === subject[at])) {
      at++;
      p++;
    } else if (p < wanted.length && wanted[p] === "*") {
      starAt = p++;
      starSubject = at;
    } else if (starAt >= 0) {
      p = starAt + 1;
      at = ++starSubject;
    } else {
      return false;
    }
  }
  while (p < wanted.length && wanted[p] === "*") p++;
  return p === wanted.length;
}

export function hasWildcard(text: string): boolean {
  return text.includes("*") || text.includes("?");
}
