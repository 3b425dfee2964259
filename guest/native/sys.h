/* The "sys" module that guest programs import (`import * as sys from "sys"`). */
#ifndef SMSS86_SYS_H
#define SMSS86_SYS_H

#include "quickjs.h"

/* Creates the module under `name` for `ctx`; argv becomes its `argv` export. NULL with an exception
 * pending on failure. */
JSModuleDef *sys_module_new(JSContext *ctx, const char *name, int argc, char **argv);

#endif
