/* The engine's memory allocator (allocator.c). */
#ifndef SMSS86_ALLOCATOR_H
#define SMSS86_ALLOCATOR_H

#include "quickjs.h"

/* For JS_NewRuntime2: size-class free lists for small blocks, glibc for large ones. */
extern const JSMallocFunctions engine_allocator;

#endif
