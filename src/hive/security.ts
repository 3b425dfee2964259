// The security descriptor given to the root key of a new hive: owner Administrators, group SYSTEM, and a
// DACL granting full control to SYSTEM and Administrators and read access to Users, inherited by subkeys.
// Subkeys share their parent's sk cell (reference counted), as Windows does for inherited descriptors.

const SE_DACL_PRESENT = 0x0004;
const SE_SELF_RELATIVE = 0x8000;
const ACCESS_ALLOWED_ACE_TYPE = 0;
const CONTAINER_INHERIT_ACE = 0x02;
const KEY_ALL_ACCESS = 0xf003f;
const KEY_READ = 0x20019;

/** A SID in binary form: revision 1, NT authority (5), then the sub-authorities. */
function ntSid(...subAuthorities: number[]): number[] {
  const out = [1, subAuthorities.length, 0, 0, 0, 0, 0, 5];
  for (const sub of subAuthorities) out.push(sub & 0xff, (sub >>> 8) & 0xff, (sub >>> 16) & 0xff, sub >>> 24);
  return out;
}

function u16(n: number): number[] {
  return [n & 0xff, n >>> 8];
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

function ace(mask: number, sid: number[]): number[] {
  return [ACCESS_ALLOWED_ACE_TYPE, CONTAINER_INHERIT_ACE, ...u16(8 + sid.length), ...u32(mask), ...sid];
}

export function defaultSecurityDescriptor(): Uint8Array {
  const system = ntSid(18);
  const administrators = ntSid(32, 544);
  const users = ntSid(32, 545);
  const aces = [...ace(KEY_ALL_ACCESS, system), ...ace(KEY_ALL_ACCESS, administrators), ...ace(KEY_READ, users)];
  const acl = [2, 0, ...u16(8 + aces.length), ...u16(3), 0, 0, ...aces];
  const header = 20;
  const ownerAt = header;
  const groupAt = ownerAt + administrators.length;
  const daclAt = groupAt + system.length;
  return Uint8Array.from([
    1,
    0,
    ...u16(SE_SELF_RELATIVE | SE_DACL_PRESENT),
    ...u32(ownerAt),
    ...u32(groupAt),
    ...u32(0),
    ...u32(daclAt),
    ...administrators,
    ...system,
    ...acl,
  ]);
}
