// Runs inside the guest's QuickJS runtime, in the emulated PC (test/guest-run.ts): opens a hive
// through GuestHiveStorage, reads values, changes the hive, commits it crash-safely, exports it as .reg
// text in both encodings (argv[2].utf16.reg, argv[2].utf8.reg), and prints what it did.
import * as sys from "sys";
import { GuestHiveStorage } from "../../guest/lib/hive-storage.ts";
import { encodeString, Hive, REG_BINARY, REG_SZ } from "../../src/hive/index.ts";
import { exportReg } from "../../src/regtext/index.ts";

const storage = new GuestHiveStorage(sys.argv[1]);
const hive = Hive.openFromStorage(storage, { name: "SYSTEM" });
const current = hive.key("Select")!.value("Current")!.asDword();
const environment = hive.key(`ControlSet00${current}\\Control\\Session Manager\\Environment`)!;
const path = environment.value("Path")!.asString();
environment.setValue("SMSS86_WRITTEN_BY", REG_SZ, encodeString("QuickJS"));
const big = new Uint8Array(40_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
hive.createKey("Software\\smss86\\Written").setValue("Big", REG_BINARY, big);
hive.commit(storage);
sys.writeFile(`${sys.argv[2]}.utf16.reg`, exportReg(hive, ""));
sys.writeFile(`${sys.argv[2]}.utf8.reg`, exportReg(hive, "", { encoding: "utf-8" }));
sys.write(1, JSON.stringify({ current, path, keys: hive.root.subkeys().map((k) => k.name) }) + "\n");
