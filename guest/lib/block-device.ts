// A block device node as src/fat's BlockDevice: positioned reads and writes through the sys module.
import * as sys from "sys";
import type { BlockDevice } from "../../src/fat/bytes.ts";

/** A stat() `dev` number as Linux packs it: major in bits 8-19, minor in bits 0-7 and 20-31. */
export function deviceNumbers(dev: number): { major: number; minor: number } {
  return { major: (dev >>> 8) & 0xfff, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}

export class GuestBlockDevice implements BlockDevice {
  readonly size: number;
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.size = sys.lseek(fd, 0, sys.SEEK_END);
  }

  static open(path: string, writable: boolean): GuestBlockDevice {
    return new GuestBlockDevice(path, sys.open(path, writable ? sys.O_RDWR : sys.O_RDONLY, 0));
  }

  read(offset: number, length: number): Uint8Array {
    sys.lseek(this.fd, offset, sys.SEEK_SET);
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const chunk = sys.read(this.fd, length - done);
      if (chunk.length === 0) throw new sys.SysError("read", 5, this.path);
      out.set(chunk, done);
      done += chunk.length;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    sys.lseek(this.fd, offset, sys.SEEK_SET);
    sys.write(this.fd, data);
  }

  close(): void {
    sys.fsync(this.fd);
    sys.close(this.fd);
  }
}
