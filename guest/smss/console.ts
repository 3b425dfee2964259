// The system console (COM1): what a person watching the boot reads.
import * as sys from "sys";

export function say(text: string): void {
  sys.write(1, text.endsWith("\n") ? text : text + "\n");
}
