/* Argument checking, result building and the SysError type used by every part of the "sys" module.
 * Arguments are checked strictly (a path must be a string, an fd an integer) because a coerced value
 * ("undefined" as a path, NaN as 0) would make the kernel act on something the caller never meant. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "sys_internal.h"

static JSValue error_constructor_value;
static JSValue sys_error_constructor_value;
static JSValue uint8array_constructor_value;

#define MAX_STRING_ARRAY_LENGTH 4096

static const char *errno_code(int error_number, char *fallback, size_t fallback_size)
{
    const char *name = strerrorname_np(error_number);
    if (name)
        return name;
    snprintf(fallback, fallback_size, "ERRNO_%d", error_number);
    return fallback;
}

/* Builds the error through Error's own constructor with SysError as new.target: that gives it the
 * Error class (so it prints and stacks like one) and SysError.prototype at once. */
static JSValue build_sys_error(JSContext *ctx, JSValueConst new_target, const char *syscall,
                               const char *path, int error_number)
{
    char code_buffer[24];
    const char *code = errno_code(error_number, code_buffer, sizeof code_buffer);
    char message[512];
    if (path)
        snprintf(message, sizeof message, "%s '%s': %s (%s)", syscall, path, strerror(error_number), code);
    else
        snprintf(message, sizeof message, "%s: %s (%s)", syscall, strerror(error_number), code);

    JSValue message_value = JS_NewString(ctx, message);
    if (JS_IsException(message_value))
        return message_value;
    JSValue error = JS_CallConstructor2(ctx, error_constructor_value, new_target, 1, &message_value);
    JS_FreeValue(ctx, message_value);
    if (JS_IsException(error))
        return error;
    if (sys_set_number(ctx, error, "errno", error_number) < 0 || sys_set_string(ctx, error, "code", code) < 0 ||
        sys_set_string(ctx, error, "syscall", syscall) < 0 || (path && sys_set_string(ctx, error, "path", path) < 0)) {
        JS_FreeValue(ctx, error);
        return JS_EXCEPTION;
    }
    return error;
}

/* new SysError(syscall, errno, path?) lets guest code raise errors of the same shape as the module's. */
static JSValue sys_error_construct(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)argc;
    const char *syscall = sys_arg_string(ctx, argv[0], "SysError", "syscall");
    if (!syscall)
        return JS_EXCEPTION;
    int64_t error_number;
    const char *path = NULL;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_int64(ctx, argv[1], "SysError", "errno", 1, 4095, &error_number) == 0 &&
        sys_arg_optional_string(ctx, argv[2], "SysError", "path", &path) == 0)
        result = build_sys_error(ctx, new_target, syscall, path, (int)error_number);
    JS_FreeCString(ctx, syscall);
    if (path)
        JS_FreeCString(ctx, path);
    return result;
}

int sys_support_init(JSContext *ctx)
{
    JSValue global = JS_GetGlobalObject(ctx);
    error_constructor_value = JS_GetPropertyStr(ctx, global, "Error");
    uint8array_constructor_value = JS_GetPropertyStr(ctx, global, "Uint8Array");
    JS_FreeValue(ctx, global);
    if (JS_IsException(error_constructor_value) || JS_IsException(uint8array_constructor_value))
        return -1;

    JSValue error_prototype = JS_GetPropertyStr(ctx, error_constructor_value, "prototype");
    if (JS_IsException(error_prototype))
        return -1;
    JSValue prototype = JS_NewObjectProto(ctx, error_prototype);
    JS_FreeValue(ctx, error_prototype);
    if (JS_IsException(prototype))
        return -1;
    if (JS_DefinePropertyValueStr(ctx, prototype, "name", JS_NewString(ctx, "SysError"),
                                  JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE) < 0) {
        JS_FreeValue(ctx, prototype);
        return -1;
    }
    sys_error_constructor_value = JS_NewCFunction2(ctx, sys_error_construct, "SysError", 3, JS_CFUNC_constructor, 0);
    if (JS_IsException(sys_error_constructor_value)) {
        JS_FreeValue(ctx, prototype);
        return -1;
    }
    JS_SetConstructor(ctx, sys_error_constructor_value, prototype);
    JS_FreeValue(ctx, prototype);
    return 0;
}

JSValue sys_error_constructor(JSContext *ctx)
{
    return JS_DupValue(ctx, sys_error_constructor_value);
}

JSValue sys_throw_error(JSContext *ctx, const char *message)
{
    JSValue message_value = JS_NewString(ctx, message);
    if (JS_IsException(message_value))
        return message_value;
    JSValue error = JS_CallConstructor(ctx, error_constructor_value, 1, &message_value);
    JS_FreeValue(ctx, message_value);
    if (JS_IsException(error))
        return error;
    return JS_Throw(ctx, error);
}

JSValue sys_throw_errno(JSContext *ctx, const char *syscall, const char *path, int error_number)
{
    JSValue error = build_sys_error(ctx, sys_error_constructor_value, syscall, path, error_number);
    if (JS_IsException(error))
        return error;
    return JS_Throw(ctx, error);
}

int sys_arg_int64(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                  int64_t min, int64_t max, int64_t *out)
{
    double number;
    if (!JS_IsNumber(value)) {
        JS_ThrowTypeError(ctx, "sys.%s: %s must be a number", function, name);
        return -1;
    }
    if (JS_ToFloat64(ctx, &number, value) < 0)
        return -1;
    /* The range test comes first: converting an out-of-range double to int64_t is undefined. */
    if (!(number >= (double)min && number <= (double)max) || number != (double)(int64_t)number) {
        JS_ThrowRangeError(ctx, "sys.%s: %s must be an integer from %lld to %lld, got %.17g", function, name,
                           (long long)min, (long long)max, number);
        return -1;
    }
    *out = (int64_t)number;
    return 0;
}

int sys_arg_optional_int64(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                           int64_t min, int64_t max, int64_t default_value, int64_t *out)
{
    if (JS_IsUndefined(value) || JS_IsNull(value)) {
        *out = default_value;
        return 0;
    }
    return sys_arg_int64(ctx, value, function, name, min, max, out);
}

int sys_arg_fd(JSContext *ctx, JSValueConst value, const char *function, int *out)
{
    int64_t fd;
    if (sys_arg_int64(ctx, value, function, "fd", 0, INT32_MAX, &fd) < 0)
        return -1;
    *out = (int)fd;
    return 0;
}

const char *sys_arg_string(JSContext *ctx, JSValueConst value, const char *function, const char *name)
{
    if (!JS_IsString(value)) {
        JS_ThrowTypeError(ctx, "sys.%s: %s must be a string", function, name);
        return NULL;
    }
    size_t length;
    const char *string = JS_ToCStringLen(ctx, &length, value);
    if (!string)
        return NULL;
    if (strlen(string) != length) {
        JS_FreeCString(ctx, string);
        JS_ThrowTypeError(ctx, "sys.%s: %s contains a NUL character", function, name);
        return NULL;
    }
    return string;
}

int sys_arg_optional_string(JSContext *ctx, JSValueConst value, const char *function, const char *name,
                            const char **out)
{
    if (JS_IsUndefined(value) || JS_IsNull(value)) {
        *out = NULL;
        return 0;
    }
    *out = sys_arg_string(ctx, value, function, name);
    return *out ? 0 : -1;
}

void sys_free_string_array(JSContext *ctx, char **strings)
{
    if (!strings)
        return;
    for (char **cursor = strings; *cursor; cursor++)
        JS_FreeCString(ctx, *cursor);
    js_free(ctx, strings);
}

char **sys_arg_string_array(JSContext *ctx, JSValueConst value, const char *function, const char *name)
{
    int is_array = JS_IsArray(ctx, value);
    if (is_array < 0)
        return NULL;
    if (!is_array) {
        JS_ThrowTypeError(ctx, "sys.%s: %s must be an array of strings", function, name);
        return NULL;
    }
    JSValue length_value = JS_GetPropertyStr(ctx, value, "length");
    int64_t length;
    int status = sys_arg_int64(ctx, length_value, function, name, 0, MAX_STRING_ARRAY_LENGTH, &length);
    JS_FreeValue(ctx, length_value);
    if (status < 0)
        return NULL;

    char **strings = js_mallocz(ctx, sizeof(char *) * (size_t)(length + 1));
    if (!strings)
        return NULL;
    for (int64_t index = 0; index < length; index++) {
        JSValue element = JS_GetPropertyUint32(ctx, value, (uint32_t)index);
        if (JS_IsException(element)) {
            sys_free_string_array(ctx, strings);
            return NULL;
        }
        char element_name[64];
        snprintf(element_name, sizeof element_name, "%s[%lld]", name, (long long)index);
        strings[index] = (char *)sys_arg_string(ctx, element, function, element_name);
        JS_FreeValue(ctx, element);
        if (!strings[index]) {
            sys_free_string_array(ctx, strings);
            return NULL;
        }
    }
    return strings;
}

/* The bytes a typed array views: 0, or NOT_TYPED_ARRAY with no exception pending (the caller throws its
 * own message, naming the argument), or -1 with the engine's exception pending (a detached buffer). */
#define NOT_TYPED_ARRAY (-2)
static int typed_array_bytes(JSContext *ctx, JSValueConst value, SysBytes *out)
{
    size_t offset, length, element_size;
    JSValue buffer = JS_GetTypedArrayBuffer(ctx, value, &offset, &length, &element_size);
    if (JS_IsException(buffer)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return NOT_TYPED_ARRAY;
    }
    size_t buffer_size;
    uint8_t *data = JS_GetArrayBuffer(ctx, &buffer_size, buffer);
    JS_FreeValue(ctx, buffer);
    if (!data)
        return -1;
    out->owned_string = NULL;
    out->data = data + offset;
    out->length = length;
    return 0;
}

int sys_arg_bytes(JSContext *ctx, JSValueConst value, const char *function, const char *name, SysBytes *out)
{
    out->owned_string = NULL;
    if (JS_IsString(value)) {
        size_t length;
        const char *string = JS_ToCStringLen(ctx, &length, value);
        if (!string)
            return -1;
        out->owned_string = string;
        out->data = (const uint8_t *)string;
        out->length = length;
        return 0;
    }
    int status = typed_array_bytes(ctx, value, out);
    if (status == NOT_TYPED_ARRAY) {
        JS_ThrowTypeError(ctx, "sys.%s: %s must be a Uint8Array (or another typed array) or a string", function, name);
        return -1;
    }
    return status;
}

int sys_arg_typed_array(JSContext *ctx, JSValueConst value, const char *function, const char *name, SysBytes *out)
{
    out->owned_string = NULL;
    int status = typed_array_bytes(ctx, value, out);
    if (status == NOT_TYPED_ARRAY) {
        JS_ThrowTypeError(ctx, "sys.%s: %s must be a Uint8Array (or another typed array)", function, name);
        return -1;
    }
    return status;
}

void sys_release_bytes(JSContext *ctx, SysBytes *bytes)
{
    if (bytes->owned_string)
        JS_FreeCString(ctx, bytes->owned_string);
    bytes->owned_string = NULL;
}

static void free_js_buffer(JSRuntime *rt, void *opaque, void *pointer)
{
    (void)opaque;
    js_free_rt(rt, pointer);
}

JSValue sys_new_uint8array(JSContext *ctx, uint8_t *buffer, size_t length)
{
    JSValue array_buffer = JS_NewArrayBuffer(ctx, buffer, length, free_js_buffer, NULL, 0);
    if (JS_IsException(array_buffer)) {
        js_free(ctx, buffer);
        return array_buffer;
    }
    JSValue array = JS_CallConstructor(ctx, uint8array_constructor_value, 1, &array_buffer);
    JS_FreeValue(ctx, array_buffer);
    return array;
}

int sys_close_keeping_errno(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int sys_set_number(JSContext *ctx, JSValueConst object, const char *name, double value)
{
    return JS_DefinePropertyValueStr(ctx, object, name, JS_NewFloat64(ctx, value), JS_PROP_C_W_E);
}

int sys_set_string(JSContext *ctx, JSValueConst object, const char *name, const char *value)
{
    return JS_DefinePropertyValueStr(ctx, object, name, JS_NewString(ctx, value), JS_PROP_C_W_E);
}
