// A hive's files (primary, .LOG1, .LOG2) on a guest filesystem, for src/hive's crash-safe commit.
import * as sys from "sys";
import type { HiveFile, HiveStorage } from "../../src/hive/index.ts";

export class GuestHiveStorage implements HiveStorage {
  constructor(readonly primaryPath: string) {}

  pathOf(file: HiveFile): string {
    return file === "primary" ? this.primaryPath : `${this.primaryPath}.${file === "log1" ? "LOG1" : "LOG2"}`;
  }

  read(file: HiveFile): Uint8Array | undefined {
    try {
      return sys.readFile(this.pathOf(file));
    } catch (err) {
      if (err instanceof sys.SysError && err.code === "ENOENT") return undefined;
      throw err;
    }
  }

  write(file: HiveFile, offset: number, bytes: Uint8Array): void {
    const fd = sys.open(this.pathOf(file), sys.O_WRONLY | sys.O_CREAT, 0o644);
    try {
      sys.lseek(fd, offset, sys.SEEK_SET);
      for (let done = 0; done < bytes.length; ) done += sys.write(fd, bytes.subarray(done));
    } finally {
      sys.close(fd);
    }
  }

  flush(file: HiveFile): void {
    const fd = sys.open(this.pathOf(file), sys.O_RDONLY, 0);
    try {
      sys.fsync(fd);
    } finally {
      sys.close(fd);
    }
  }
}
