// PendingFileRenameOperations (then ...2): pairs of NT paths, source then target. An empty target deletes
// the source; a target starting with "!" (smss also accepts "@") replaces an existing file.

export interface RenameOperation {
  /** Position in the combined queue (PFRO first, then PFRO2), from 0. */
  index: number;
  source: string;
  /** Without its ! or @ prefix; "" for a delete. */
  target: string;
  replaceExisting: boolean;
  kind: "rename" | "delete";
}

/** Pairs the strings of both values in order; a source left without a target (an odd count) is dropped, as smss does. */
export function pairRenames(strings: readonly string[]): { operations: RenameOperation[]; unpaired?: string } {
  const operations: RenameOperation[] = [];
  for (let i = 0; i + 1 < strings.length; i += 2) {
    const source = strings[i];
    let target = strings[i + 1];
    const replaceExisting = target.startsWith("!") || target.startsWith("@");
    if (replaceExisting) target = target.slice(1);
    operations.push({ index: operations.length, source, target, replaceExisting, kind: target === "" && !replaceExisting ? "delete" : "rename" });
  }
  return strings.length % 2 === 1 ? { operations, unpaired: strings[strings.length - 1] } : { operations };
}
