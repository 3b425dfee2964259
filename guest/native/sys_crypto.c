/* Cryptography the guest cannot afford in bytecode: Argon2id, the password hash of the SAM hive
 * (src/sam/). QuickJS runs about 40 guest instructions per bytecode, and Argon2's inner loop is 64-bit
 * arithmetic on 1 KiB blocks, which bytecode would have to do in 32-bit halves: the reference C code
 * (node_modules/argon2/argon2/, compiled in by build.sh) already takes 1.8e4 guest instructions per KiB
 * and pass. */
#include <stdint.h>
#include <stdio.h>
#include "argon2.h"
#include "sys_internal.h"

/* Bounds on what one call may ask for. They match src/sam's ARGON2_LIMITS, which a SAM hive's stored
 * parameters must satisfy, so any account the hive can hold can be verified here. Memory is the one that
 * matters: the guest has 64 MiB of RAM by default and argon2 allocates all of it at once; passes and lanes
 * are bounded so that a damaged hive cannot stall a logon without end (the largest call allowed takes
 * about 7e10 guest instructions). */
#define ARGON2ID_MAX_MEMORY_KIB 65536
#define ARGON2ID_MAX_TIME_COST 64
#define ARGON2ID_MAX_PARALLELISM 16
#define ARGON2ID_MAX_HASH_LENGTH 1024
#define ARGON2ID_MAX_SALT_LENGTH 1024
#define ARGON2ID_MAX_PASSWORD_LENGTH 65536

static int option_uint32(JSContext *ctx, JSValueConst options, const char *name, int64_t min, int64_t max,
                         uint32_t *out)
{
    char label[32];
    snprintf(label, sizeof label, "options.%s", name);
    JSValue value = JS_GetPropertyStr(ctx, options, name);
    if (JS_IsException(value))
        return -1;
    int64_t number;
    int status = sys_arg_int64(ctx, value, "argon2id", label, min, max, &number);
    JS_FreeValue(ctx, value);
    if (status < 0)
        return -1;
    *out = (uint32_t)number;
    return 0;
}

static int length_in_range(JSContext *ctx, const char *name, size_t length, size_t min, size_t max)
{
    if (length >= min && length <= max)
        return 0;
    JS_ThrowRangeError(ctx, "sys.argon2id: %s must be %zu to %zu bytes long, got %zu", name, min, max, length);
    return -1;
}

/* argon2id(password, salt, { timeCost, memoryKiB, parallelism, hashLength }) → the raw hash, Argon2
 * version 1.3 (v=19), no secret and no associated data: what a PHC string records, nothing more. */
static JSValue sys_argon2id(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    if (!JS_IsObject(argv[2]))
        return JS_ThrowTypeError(ctx, "sys.argon2id: options must be an object { timeCost, memoryKiB, parallelism, hashLength }");
    uint32_t time_cost, memory_kib, parallelism, hash_length;
    if (option_uint32(ctx, argv[2], "timeCost", 1, ARGON2ID_MAX_TIME_COST, &time_cost) < 0 ||
        option_uint32(ctx, argv[2], "memoryKiB", ARGON2_MIN_MEMORY, ARGON2ID_MAX_MEMORY_KIB, &memory_kib) < 0 ||
        option_uint32(ctx, argv[2], "parallelism", 1, ARGON2ID_MAX_PARALLELISM, &parallelism) < 0 ||
        option_uint32(ctx, argv[2], "hashLength", ARGON2_MIN_OUTLEN, ARGON2ID_MAX_HASH_LENGTH, &hash_length) < 0)
        return JS_EXCEPTION;
    /* Argon2 needs two blocks per lane and slice; checked here so that it is a RangeError like the rest
     * of the bad arguments, not argon2's "Memory cost is too small". */
    if (memory_kib < ARGON2_SYNC_POINTS * 2 * parallelism)
        return JS_ThrowRangeError(ctx, "sys.argon2id: options.memoryKiB must be at least 8 per lane (%u for %u), got %u",
                                  ARGON2_SYNC_POINTS * 2 * parallelism, parallelism, memory_kib);

    /* The password and salt are read after the options: reading an option may run a getter, which could
     * detach the buffers these point into. */
    SysBytes password, salt;
    if (sys_arg_bytes(ctx, argv[0], "argon2id", "password", &password) < 0)
        return JS_EXCEPTION;
    if (sys_arg_typed_array(ctx, argv[1], "argon2id", "salt", &salt) < 0) {
        sys_release_bytes(ctx, &password);
        return JS_EXCEPTION;
    }
    JSValue result = JS_EXCEPTION;
    uint8_t *hash = NULL;
    if (length_in_range(ctx, "password", password.length, 0, ARGON2ID_MAX_PASSWORD_LENGTH) == 0 &&
        length_in_range(ctx, "salt", salt.length, ARGON2_MIN_SALT_LENGTH, ARGON2ID_MAX_SALT_LENGTH) == 0 &&
        (hash = js_malloc(ctx, hash_length)) != NULL) {
        int status = argon2_hash(time_cost, memory_kib, parallelism, password.data, password.length, salt.data,
                                 salt.length, hash, hash_length, NULL, 0, Argon2_id, ARGON2_VERSION_13);
        if (status == ARGON2_OK) {
            result = sys_new_uint8array(ctx, hash, hash_length);
            hash = NULL;
        } else {
            char message[160];
            snprintf(message, sizeof message, "sys.argon2id: argon2 failed: %s (error %d; m=%u KiB, t=%u, p=%u)",
                     argon2_error_message(status), status, memory_kib, time_cost, parallelism);
            result = sys_throw_error(ctx, message);
        }
    }
    js_free(ctx, hash);
    sys_release_bytes(ctx, &password);
    sys_release_bytes(ctx, &salt);
    return result;
}

const JSCFunctionListEntry sys_crypto_functions[] = {
    JS_CFUNC_DEF("argon2id", 3, sys_argon2id),
};
const int sys_crypto_function_count = SYS_COUNT_OF(sys_crypto_functions);
