// csrss's command line as Windows' CSRSRV parses it (reference §5): `Name=Value` arguments after the image;
// ObjectDirectory (the object directory its ports go in), SharedSection (heap sizes in KB, at least two
// numbers), ServerDll=dll[:Entry],Index (each server DLL and the slot it serves), MaxRequestThreads
// (default 16); Windows, SubSystemType and ProfileControl are accepted as Windows accepts them; anything
// else is an invalid parameter, and so is a malformed value.

export interface ServerDllSpec {
  /** The DLL's name as written (".dll" is added when it has no extension). */
  dll: string;
  /** The entry point to call; the DLL's default one when not given. */
  entry: string | undefined;
  /** The API slot the DLL serves (0..3). */
  index: number;
}

export interface CsrssCommandLine {
  objectDirectory: string;
  sharedSectionKiB: number[];
  serverDlls: ServerDllSpec[];
  maxRequestThreads: number;
}

/** CSR_SERVER_DLL_MAX: the server DLL slots csrss has. */
export const SERVER_DLL_SLOTS = 4;
const DEFAULT_MAX_REQUEST_THREADS = 16;
const ACCEPTED_AS_WINDOWS_DOES = new Set(["windows", "subsystemtype", "profilecontrol", "requestthreads"]);

/** A command line csrss refuses (STATUS_INVALID_PARAMETER in Windows): names the argument and why. */
export class CsrssCommandLineError extends Error {
  override name = "CsrssCommandLineError";
}

function positiveInteger(text: string, what: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new CsrssCommandLineError(`${what}: ${JSON.stringify(text)} is not a number from 1 to ${max}`);
  return Number(text);
}

function parseServerDll(value: string): ServerDllSpec {
  const comma = value.lastIndexOf(",");
  if (comma < 0) throw new CsrssCommandLineError(`ServerDll=${value}: the index is missing (ServerDll=dll[:Entry],Index)`);
  const [name, entry, extra] = value.slice(0, comma).split(":");
  const indexText = value.slice(comma + 1);
  if (name === "" || extra !== undefined || entry === "" || !/^\d+$/.test(indexText)) {
    throw new CsrssCommandLineError(`ServerDll=${value}: not of the form dll[:Entry],Index`);
  }
  const index = Number(indexText);
  if (index >= SERVER_DLL_SLOTS) throw new CsrssCommandLineError(`ServerDll=${value}: index ${index} is beyond the ${SERVER_DLL_SLOTS} server DLL slots`);
  return { dll: /\.[^\\.]*$/.test(name) ? name : `${name}.dll`, entry, index };
}

/** The arguments after csrss's image name. */
export function parseCsrssCommandLine(args: readonly string[]): CsrssCommandLine {
  let objectDirectory: string | undefined;
  let sharedSectionKiB: number[] | undefined;
  let maxRequestThreads = DEFAULT_MAX_REQUEST_THREADS;
  const serverDlls: ServerDllSpec[] = [];
  for (const argument of args) {
    const equals = argument.indexOf("=");
    if (equals <= 0) throw new CsrssCommandLineError(`${JSON.stringify(argument)} is not of the form Name=Value`);
    const name = argument.slice(0, equals).toLowerCase();
    const value = argument.slice(equals + 1);
    if (name === "objectdirectory") {
      if (!value.startsWith("\\") || value.length < 2) throw new CsrssCommandLineError(`ObjectDirectory=${value}: not an object directory path`);
      objectDirectory = value;
    } else if (name === "sharedsection") {
      const sizes = value.split(",");
      if (sizes.length < 2) throw new CsrssCommandLineError(`SharedSection=${value}: needs at least two sizes separated by a comma`);
      sharedSectionKiB = sizes.map((size) => positiveInteger(size, `SharedSection=${value}`, 1 << 20));
    } else if (name === "serverdll") {
      const spec = parseServerDll(value);
      if (serverDlls.some((other) => other.index === spec.index)) throw new CsrssCommandLineError(`ServerDll=${value}: slot ${spec.index} is already taken`);
      serverDlls.push(spec);
    } else if (name === "maxrequestthreads") {
      maxRequestThreads = positiveInteger(value, "MaxRequestThreads", 1024);
    } else if (!ACCEPTED_AS_WINDOWS_DOES.has(name)) {
      throw new CsrssCommandLineError(`unknown argument ${JSON.stringify(argument)}`);
    }
  }
  if (objectDirectory === undefined) throw new CsrssCommandLineError("ObjectDirectory= is missing");
  return { objectDirectory, sharedSectionKiB: sharedSectionKiB ?? [], serverDlls, maxRequestThreads };
}
