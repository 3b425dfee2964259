/* Shared by the parts of the "sys" module: argument conversion, the SysError type and the per-area
 * function tables that sys.c joins into one module. Each area (files, processes, system) keeps its own
 * table so that new syscalls land next to their relatives as one small C function plus one table row. */
#ifndef SMSS86_SYS_INTERNAL_H
#define SMSS86_SYS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "quickjs.h"

#define SYS_COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Largest single read() and readFile() the module will allocate for; larger requests are refused with a
 * clear error instead of an allocation the guest's small memory cannot satisfy. */
#define SYS_MAX_READ_LENGTH (64u * 1024u * 1024u)
#define SYS_MAX_FILE_LENGTH (256u * 1024u * 1024u)

/* Created once by sys_support_init(); SysError is a real Error subclass so stacks are captured. */
int sys_support_init(JSContext *ctx);
JSValue sys_error_constructor(JSContext *ctx);

/* Throws SysError{errno, code, syscall, path}; always returns JS_EXCEPTION. path may be NULL. */
JSValue sys_throw_errno(JSContext *ctx, const char *syscall, const char *path, int error_number);

/* Throws a plain Error with the message, for failures that are neither a syscall's nor an argument's
 * (a library's own error); always returns JS_EXCEPTION. */
JSValue sys_throw_error(JSContext *ctx, const char *message);

/* Argument readers: each returns 0 on success, or -1 with a TypeError/RangeError pending that names the
 * function and the argument. Optional variants leave *out at the default for undefined (and null). */
int sys_arg_int64(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                  int64_t min, int64_t max, int64_t *out);
int sys_arg_optional_int64(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                           int64_t min, int64_t max, int64_t default_value, int64_t *out);
int sys_arg_fd(JSContext *ctx, JSValueConst value, const char *function, int *out);

/* Strings for the kernel: UTF-8, and refused when they contain NUL (it would silently cut the path).
 * Free with JS_FreeCString. sys_arg_optional_string gives NULL for undefined or null. */
const char *sys_arg_string(JSContext *ctx, JSValueConst value, const char *function, const char *name);
int sys_arg_optional_string(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                            const char **out);

/* A NULL-terminated char* array from a JS array of strings; free with sys_free_string_array. */
char **sys_arg_string_array(JSContext *ctx, JSValueConst value, const char *function, const char *name);
void sys_free_string_array(JSContext *ctx, char **strings);

/* Bytes of a string (UTF-8) or of any typed array (sys_arg_typed_array: a typed array only). They point
 * into the string's copy or the array's buffer: release with sys_release_bytes, and run no JS code while
 * holding them. */
typedef struct {
    const uint8_t *data;
    size_t length;
    const char *owned_string;
} SysBytes;
int sys_arg_bytes(JSContext *ctx, JSValueConst value, const char *function, const char *name, SysBytes *out);
int sys_arg_typed_array(JSContext *ctx, JSValueConst value, const char *function, const char *name, SysBytes *out);
void sys_release_bytes(JSContext *ctx, SysBytes *bytes);

/* Wraps a js_malloc'd buffer (ownership passes to the result) in a Uint8Array. */
JSValue sys_new_uint8array(JSContext *ctx, uint8_t *buffer, size_t length);

/* Closes fd after a failed call on it, keeping that call's errno for the error thrown; returns -1. */
int sys_close_keeping_errno(int fd);

int sys_set_number(JSContext *ctx, JSValueConst object, const char *name, double value);
int sys_set_string(JSContext *ctx, JSValueConst object, const char *name, const char *value);

/* A C constant exported under its own name, for the function tables. */
#define INT_CONSTANT(name) JS_PROP_INT32_DEF(#name, name, JS_PROP_ENUMERABLE)

extern const JSCFunctionListEntry sys_fs_functions[];
extern const int sys_fs_function_count;
extern const JSCFunctionListEntry sys_process_functions[];
extern const int sys_process_function_count;
extern const JSCFunctionListEntry sys_system_functions[];
extern const int sys_system_function_count;
extern const JSCFunctionListEntry sys_port_functions[];
extern const int sys_port_function_count;
extern const JSCFunctionListEntry sys_crypto_functions[];
extern const int sys_crypto_function_count;

#endif
