#!/usr/bin/env node
// The smss86 command: loads the TypeScript CLI through tsx so the repository needs no compile step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../emulator/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
