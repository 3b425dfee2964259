// File names on FAT: long names (VFAT, UTF-16) and the 8.3 short names that every entry also carries.
// Pure: no Node or DOM APIs, so the web page can use it too.

/** Why a name cannot be stored; the caller wraps this in its own typed error with the path. */
export class InvalidFatNameError extends Error {
  constructor(
    readonly fileName: string,
    reason: string,
  ) {
    super(`invalid FAT file name ${JSON.stringify(fileName)}: ${reason}`);
    this.name = "InvalidFatNameError";
  }
}

/** The longest long name VFAT stores, in UTF-16 code units. */
export const MAX_LONG_NAME_LENGTH = 255;
/** UTF-16 code units per long-name directory entry. */
export const LONG_NAME_CHARS_PER_ENTRY = 13;

const FORBIDDEN_IN_LONG_NAMES = /[\u0000-\u001f"*/:<>?\\|]/;
/** Characters a short name may hold besides A–Z and 0–9 (the DOS set, minus the space we never produce). */
const SHORT_NAME_PUNCTUATION = new Set(["!", "#", "$", "%", "&", "'", "(", ")", "-", "@", "^", "_", "`", "{", "}", "~"]);

/** Code page 437, bytes 0x80–0xFF: the OEM code page DOS and Linux (codepage=437) use for short names. */
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
  "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

/** Why `name` cannot be a VFAT long name, or undefined if it can. */
export function longNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name === "." || name === "..") return "it names a directory link";
  if (name.length > MAX_LONG_NAME_LENGTH) return `it is ${name.length} UTF-16 units long; FAT allows ${MAX_LONG_NAME_LENGTH}`;
  const forbidden = FORBIDDEN_IN_LONG_NAMES.exec(name);
  if (forbidden !== null) return `it contains ${JSON.stringify(forbidden[0])}, which FAT forbids`;
  // Windows and Linux both drop trailing dots and spaces, so such a name could never be found again as given.
  if (name.endsWith(".") || name.endsWith(" ")) return "it ends with a dot or a space";
  return undefined;
}

/** Checks that `name` may be a VFAT long name; throws InvalidFatNameError if not. */
function validateLongName(name: string): void {
  const problem = longNameProblem(name);
  if (problem !== undefined) throw new InvalidFatNameError(name, problem);
}

/**
 * FAT compares names without regard to case. Folding each UTF-16 unit on its own (never "ß" → "SS")
 * matches the one-to-one upcase table Windows and Linux use.
 */
export function foldNameCase(name: string): string {
  let folded = "";
  for (let i = 0; i < name.length; i++) {
    const unit = name[i];
    const upper = unit.toUpperCase();
    folded += upper.length === 1 ? upper : unit;
  }
  return folded;
}

/** The 11 bytes of a short name as stored: 8 of base, 3 of extension, space-padded. */
export type ShortNameBytes = Uint8Array;

/** What to store for a new entry: its short name, and whether the long name needs VFAT entries of its own. */
export interface NamePlan {
  shortName: ShortNameBytes;
  needsLongName: boolean;
}

/**
 * Chooses the short name for `longName` the way Windows and Linux vfat do: upper-case the name, replace what a
 * short name cannot hold by "_", and add a "~n" tail when the result lost information, was too long, or is taken.
 * `taken` holds the 11-byte short names already in the directory, as latin1 strings (see shortNameKey).
 */
export function planShortName(longName: string, taken: ReadonlySet<string>): NamePlan {
  validateLongName(longName);
  const withoutLeadingDots = longName.replace(/^[. ]+/, "");
  const lastDot = withoutLeadingDots.lastIndexOf(".");
  const rawBase = lastDot < 0 ? withoutLeadingDots : withoutLeadingDots.slice(0, lastDot);
  const rawExtension = lastDot < 0 ? "" : withoutLeadingDots.slice(lastDot + 1);

  let lossy = withoutLeadingDots.length !== longName.length;
  const convert = (part: string): string => {
    let out = "";
    for (const char of part) {
      if (char === " " || char === ".") {
        lossy = true;
        continue;
      }
      const upper = char >= "a" && char <= "z" ? char.toUpperCase() : char;
      if ((upper >= "A" && upper <= "Z") || (upper >= "0" && upper <= "9") || SHORT_NAME_PUNCTUATION.has(upper)) {
        out += upper;
      } else {
        out += "_";
        lossy = true;
      }
    }
    return out;
  };
  let base = convert(rawBase);
  const extension = convert(rawExtension);
  if (base.length === 0) {
    base = "_";
    lossy = true;
  }
  const fits = base.length <= 8 && extension.length <= 3;
  const extension3 = extension.slice(0, 3);
  const plain = encodeShortName(base.slice(0, 8), extension3);
  const plainText = extension3.length > 0 ? `${base}.${extension3}` : base;
  const needsLongName = plainText !== longName;
  if (fits && !lossy && !taken.has(shortNameKey(plain))) {
    return { shortName: plain, needsLongName };
  }
  // A directory holds at most 65536 entries, so some tail below that is always free.
  for (let tail = 1; tail <= 65536; tail++) {
    const suffix = `~${tail}`;
    const candidate = encodeShortName(base.slice(0, 8 - suffix.length) + suffix, extension3);
    if (!taken.has(shortNameKey(candidate))) return { shortName: candidate, needsLongName: true };
  }
  throw new InvalidFatNameError(longName, "every short name for it is taken");
}

function encodeShortName(base: string, extension: string): ShortNameBytes {
  const bytes = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) bytes[i] = base.charCodeAt(i);
  for (let i = 0; i < extension.length; i++) bytes[8 + i] = extension.charCodeAt(i);
  return bytes;
}

/** A short name's 11 bytes as a string key for sets of names already in a directory. */
export function shortNameKey(bytes: Uint8Array): string {
  let key = "";
  for (let i = 0; i < 11; i++) key += String.fromCharCode(bytes[i]);
  return key;
}

/** Bits of the entry's "NT reserved" byte: Windows NT stores an all-lower-case base or extension this way. */
export const LOWER_CASE_BASE = 0x08;
export const LOWER_CASE_EXTENSION = 0x10;

/** The displayable short name, e.g. "SMSS.EXE", honouring the NT lower-case flags. */
export function decodeShortName(bytes: Uint8Array, caseFlags: number): string {
  let base = decodeShortNamePart(bytes, 0, 8);
  let extension = decodeShortNamePart(bytes, 8, 11);
  if ((caseFlags & LOWER_CASE_BASE) !== 0) base = base.toLowerCase();
  if ((caseFlags & LOWER_CASE_EXTENSION) !== 0) extension = extension.toLowerCase();
  return extension.length > 0 ? `${base}.${extension}` : base;
}

function decodeShortNamePart(bytes: Uint8Array, start: number, end: number): string {
  while (end > start && bytes[end - 1] === 0x20) end--;
  let part = "";
  for (let i = start; i < end; i++) {
    // 0x05 in the first byte stands for 0xE5, which would otherwise mark the entry deleted.
    const byte = i === 0 && bytes[i] === 0x05 ? 0xe5 : bytes[i];
    part += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
  }
  return part;
}

/** The checksum of a short name that each of its long-name entries carries. */
export function shortNameChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + bytes[i]) & 0xff;
  return sum;
}
