// The probe events a good boot of the default disk reports as done, in order: every smss phase, and
// autochk's report on C: inside boot-execute.
import { PHASES } from "../src/events/index.ts";

export const DONE_ON_A_GOOD_BOOT: string[] = PHASES.flatMap((phase) => (phase === "boot-execute" ? ["autochk", phase] : [phase]));
