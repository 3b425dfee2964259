// Where the guest's programs and their shared runtime live, and how a program for the shared runtime
// starts: shared by the disk builder (host), the bytecode linker (host) and smss (guest), which registers
// the magic with binfmt_misc. guest/native/runtime.c reads the same layout.

/** The shared runtime every program but smss.exe runs on (images/prebuilt/qjs-runtime). */
export const SHARED_RUNTIME_PATH = "/Windows/System32/qjs.exe";

/** The first 8 bytes of a program for the shared runtime; a u32 length and a u32 CRC-32 follow, then bytecode. */
export const SHARED_PROGRAM_MAGIC = "S86QJSX1";
