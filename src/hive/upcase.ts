// Windows' case-insensitive name comparison. The kernel upper-cases one UTF-16 code unit at a time
// (RtlUpcaseUnicodeChar); we approximate its table with String.prototype.toUpperCase, keeping the unit as it
// is whenever the Unicode mapping would change the length (e.g. "ß" -> "SS"), since Windows never does that.

// Filled on first use of each unit (0 = not yet known): building all 65,536 entries up front would cost
// noticeable start-up time in the guest's interpreter.
const upcaseTable = new Uint16Array(0x10000);
for (let unit = 0; unit < 0x80; unit++) upcaseTable[unit] = unit >= 0x61 && unit <= 0x7a ? unit - 0x20 : unit;

export function upcaseUnit(unit: number): number {
  const known = upcaseTable[unit];
  if (known !== 0 || unit === 0) return known;
  const upper = String.fromCharCode(unit).toUpperCase();
  const mapped = upper.length === 1 ? upper.charCodeAt(0) : unit;
  upcaseTable[unit] = mapped;
  return mapped;
}

const NON_ASCII = /[^\x00-\x7f]/;

export function upcaseName(name: string): string {
  // ASCII is the common case, and there the engine's native toUpperCase maps exactly what the table maps.
  // The regular expression finds out natively: a loop over the characters cost the guest more than the rest.
  if (!NON_ASCII.test(name)) return name.toUpperCase();
  let out = "";
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(upcaseUnit(name.charCodeAt(i)));
  return out;
}

/** Negative, zero or positive as a sorts before, equal to or after b in a subkey list. */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const d = upcaseUnit(x) - upcaseUnit(y);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function namesEqual(a: string, b: string): boolean {
  return a.length === b.length && compareNames(a, b) === 0;
}

/** The name hash stored in lh leaves: H = H * 37 + upcased unit, modulo 2^32. */
export function lhHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 37) + upcaseUnit(name.charCodeAt(i))) >>> 0;
  return h;
}
