// `cat FILE...` for guest tests: each file's bytes to stdout.
import * as sys from "sys";

for (const path of sys.argv.slice(1)) sys.write(1, sys.readFile(path));
