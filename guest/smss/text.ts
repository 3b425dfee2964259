// QuickJS has no TextDecoder/TextEncoder; the guest's own files and /proc are ASCII.
export function asciiText(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}
