/* The guest program runtime: one static i386 binary that is the bytecode compiler (when it carries no
 * program), the loader of a program appended to it, and the shared runtime of programs that carry only
 * their bytecode.
 *
 * A self-contained program file (smss.exe, which runs before anything is set up) is:
 *   runtime bytes | payload | trailer, the 16-byte trailer being
 *   u32 payload length (little-endian) | u32 CRC-32 of the payload | 8-byte magic "S86QJSB1".
 * A program for the shared runtime (every other .exe in System32) is:
 *   8-byte magic "S86QJSX1" | u32 payload length | u32 CRC-32 of the payload | payload.
 * smss registers that magic with the kernel's binfmt_misc (flags P and F), so exec of such a file runs
 * this binary (C:\Windows\System32\qjs.exe) with argv = [runtime, program path, original argv...]: the
 * runtime's code is then one file's pages, shared by every process, as Windows shares ntdll.dll.
 * The payload is one ES module compiled by this same binary (`--compile`), so the bytecode format always
 * matches the engine that reads it. The CRC guards the engine's bytecode reader, which trusts its input:
 * a damaged file must end in a clear message, not a crash of PID 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include "allocator.h"
#include "cutils.h"
#include "quickjs.h"
#include "sys.h"

#define TRAILER_SIZE 16
#define TRAILER_MAGIC "S86QJSB1"
#define TRAILER_MAGIC_SIZE 8
#define SHARED_MAGIC "S86QJSX1"
#define SHARED_HEADER_SIZE 16

enum {
    EXIT_PROGRAM_FAILED = 1, /* the program threw, or left a promise rejection unhandled */
    EXIT_BAD_EXECUTABLE = 2, /* usage error, missing or damaged payload */
};

typedef enum { PAYLOAD_PRESENT, PAYLOAD_ABSENT, PAYLOAD_DAMAGED } PayloadStatus;

static const char *program_name = "qjs-runtime";
static int program_argc;
static char **program_argv;

typedef struct {
    JSValue promise;
    JSValue reason;
} UnhandledRejection;

static UnhandledRejection *unhandled_rejections;
static size_t unhandled_rejection_count, unhandled_rejection_capacity;

static uint32_t read_le32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

/* CRC-32 (IEEE, as zlib's) four bytes per step ("slicing by 4"): checking the payload is on the path of
 * every process start, and the byte-at-a-time loop costs about three times as many instructions. */
static uint32_t crc32_ieee(const uint8_t *data, size_t length)
{
    static uint32_t tables[4][256];
    if (tables[0][1] == 0) {
        for (uint32_t index = 0; index < 256; index++) {
            uint32_t value = index;
            for (int bit = 0; bit < 8; bit++)
                value = value & 1 ? (value >> 1) ^ 0xEDB88320u : value >> 1;
            tables[0][index] = value;
        }
        for (uint32_t index = 0; index < 256; index++)
            for (int slice = 1; slice < 4; slice++)
                tables[slice][index] = (tables[slice - 1][index] >> 8) ^ tables[0][tables[slice - 1][index] & 0xFF];
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (; length >= 4; data += 4, length -= 4) {
        crc ^= read_le32(data);
        crc = tables[3][crc & 0xFF] ^ tables[2][(crc >> 8) & 0xFF] ^ tables[1][(crc >> 16) & 0xFF] ^ tables[0][crc >> 24];
    }
    for (; length > 0; data++, length--)
        crc = tables[0][(crc ^ *data) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static int read_exactly_at(int fd, uint8_t *buffer, size_t length, off_t offset)
{
    size_t done = 0;
    while (done < length) {
        ssize_t count = pread(fd, buffer + done, length - done, offset + (off_t)done);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            return -1;
        done += (size_t)count;
    }
    return 0;
}

/* The kernel records the path it executed (AT_EXECFN) even when /proc is not mounted, as for PID 1;
 * argv[0] is whatever the parent chose and may name no file at all. */
static int open_own_executable(const char **path)
{
    const char *exec_path = (const char *)getauxval(AT_EXECFN);
    if (exec_path) {
        int fd = open(exec_path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            *path = exec_path;
            return fd;
        }
    }
    *path = "/proc/self/exe";
    return open(*path, O_RDONLY | O_CLOEXEC);
}

static PayloadStatus read_checked_payload(int fd, const char *path, off_t offset, uint32_t length, uint32_t expected_crc,
                                          const char *recorded_in, uint8_t **payload, size_t *payload_length,
                                          char *problem, size_t problem_size);

static PayloadStatus read_payload(int fd, const char *path, uint8_t **payload, size_t *payload_length,
                                  char *problem, size_t problem_size)
{
    struct stat status;
    uint8_t trailer[TRAILER_SIZE];
    if (fstat(fd, &status) < 0) {
        snprintf(problem, problem_size, "cannot stat %s: %s", path, strerror(errno));
        return PAYLOAD_DAMAGED;
    }
    if (status.st_size < TRAILER_SIZE)
        return PAYLOAD_ABSENT;
    off_t trailer_offset = status.st_size - TRAILER_SIZE;
    if (read_exactly_at(fd, trailer, TRAILER_SIZE, trailer_offset) < 0) {
        snprintf(problem, problem_size, "cannot read the trailer of %s: %s", path, strerror(errno));
        return PAYLOAD_DAMAGED;
    }
    if (memcmp(trailer + 8, TRAILER_MAGIC, TRAILER_MAGIC_SIZE) != 0)
        return PAYLOAD_ABSENT;

    uint32_t length = read_le32(trailer), expected_crc = read_le32(trailer + 4);
    if (length == 0 || (off_t)length > trailer_offset) {
        snprintf(problem, problem_size,
                 "damaged trailer in %s: payload length %u does not fit the %lld bytes before the trailer", path,
                 length, (long long)trailer_offset);
        return PAYLOAD_DAMAGED;
    }
    return read_checked_payload(fd, path, trailer_offset - length, length, expected_crc, "trailer", payload, payload_length,
                                problem, problem_size);
}

/* Reads a payload from offset and checks it against the CRC recorded in its header or trailer. */
static PayloadStatus read_checked_payload(int fd, const char *path, off_t offset, uint32_t length, uint32_t expected_crc,
                                          const char *recorded_in, uint8_t **payload, size_t *payload_length,
                                          char *problem, size_t problem_size)
{
    uint8_t *buffer = malloc(length);
    if (!buffer) {
        snprintf(problem, problem_size, "cannot allocate %u bytes for the program in %s", length, path);
        return PAYLOAD_DAMAGED;
    }
    if (read_exactly_at(fd, buffer, length, offset) < 0) {
        snprintf(problem, problem_size, "cannot read the %u-byte program in %s: %s", length, path, strerror(errno));
        free(buffer);
        return PAYLOAD_DAMAGED;
    }
    uint32_t actual_crc = crc32_ieee(buffer, length);
    if (actual_crc != expected_crc) {
        snprintf(problem, problem_size,
                 "damaged program in %s: CRC-32 of the %u-byte payload is %08x, the %s expects %08x", path,
                 length, actual_crc, recorded_in, expected_crc);
        free(buffer);
        return PAYLOAD_DAMAGED;
    }
    *payload = buffer;
    *payload_length = length;
    return PAYLOAD_PRESENT;
}

/* A program for the shared runtime: PAYLOAD_ABSENT when the file does not start with its magic. */
static PayloadStatus read_shared_program(const char *path, uint8_t **payload, size_t *payload_length, char *problem,
                                         size_t problem_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(problem, problem_size, "cannot open %s: %s", path, strerror(errno));
        return PAYLOAD_DAMAGED;
    }
    uint8_t header[SHARED_HEADER_SIZE];
    struct stat status;
    PayloadStatus result = PAYLOAD_ABSENT;
    if (fstat(fd, &status) == 0 && status.st_size >= SHARED_HEADER_SIZE && read_exactly_at(fd, header, SHARED_HEADER_SIZE, 0) == 0 &&
        memcmp(header, SHARED_MAGIC, TRAILER_MAGIC_SIZE) == 0) {
        uint32_t length = read_le32(header + 8);
        if (length == 0 || (off_t)length != status.st_size - SHARED_HEADER_SIZE) {
            snprintf(problem, problem_size, "damaged header in %s: payload length %u, but %lld bytes follow the header", path,
                     length, (long long)(status.st_size - SHARED_HEADER_SIZE));
            result = PAYLOAD_DAMAGED;
        } else {
            result = read_checked_payload(fd, path, SHARED_HEADER_SIZE, length, read_le32(header + 12), "header", payload,
                                          payload_length, problem, problem_size);
        }
    }
    close(fd);
    return result;
}

/* Writes the value as a line, and an Error's stack under it (the part that says where it came from). */
static void append_value(JSContext *ctx, DynBuf *out, JSValueConst value)
{
    const char *text = JS_ToCString(ctx, value);
    if (text) {
        dbuf_putstr(out, text);
        JS_FreeCString(ctx, text);
    } else {
        JS_FreeValue(ctx, JS_GetException(ctx));
        dbuf_putstr(out, "[value that cannot be converted to a string]");
    }
    if (!JS_IsError(ctx, value))
        return;
    JSValue stack = JS_GetPropertyStr(ctx, value, "stack");
    if (JS_IsString(stack)) {
        const char *stack_text = JS_ToCString(ctx, stack);
        if (stack_text && stack_text[0]) {
            dbuf_putc(out, '\n');
            dbuf_putstr(out, stack_text);
            if (stack_text[strlen(stack_text) - 1] == '\n')
                out->size--;
        }
        JS_FreeCString(ctx, stack_text);
    } else if (JS_IsException(stack)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
    }
    JS_FreeValue(ctx, stack);
}

static void write_buffer(int fd, DynBuf *buffer)
{
    size_t done = 0;
    while (done < buffer->size) {
        ssize_t count = write(fd, buffer->buf + done, buffer->size - done);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            return;
        done += (size_t)count;
    }
}

static void report_value(JSContext *ctx, const char *prefix, JSValueConst value)
{
    DynBuf out;
    dbuf_init(&out);
    dbuf_putstr(&out, program_name);
    dbuf_putstr(&out, ": ");
    dbuf_putstr(&out, prefix);
    append_value(ctx, &out, value);
    dbuf_putc(&out, '\n');
    write_buffer(STDERR_FILENO, &out);
    dbuf_free(&out);
}

static void report_exception(JSContext *ctx, const char *prefix)
{
    JSValue exception = JS_GetException(ctx);
    report_value(ctx, prefix, exception);
    JS_FreeValue(ctx, exception);
}

/* console.log/info/debug go to stdout, console.warn/error to stderr (magic = the fd); one write per call
 * so that lines from several processes sharing the console do not interleave mid-line. */
static JSValue console_print(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv, int fd)
{
    (void)this_value;
    DynBuf out;
    dbuf_init(&out);
    for (int index = 0; index < argc; index++) {
        if (index > 0)
            dbuf_putc(&out, ' ');
        append_value(ctx, &out, argv[index]);
    }
    dbuf_putc(&out, '\n');
    write_buffer(fd, &out);
    dbuf_free(&out);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_functions[] = {
    JS_CFUNC_MAGIC_DEF("log", 1, console_print, STDOUT_FILENO),
    JS_CFUNC_MAGIC_DEF("info", 1, console_print, STDOUT_FILENO),
    JS_CFUNC_MAGIC_DEF("debug", 1, console_print, STDOUT_FILENO),
    JS_CFUNC_MAGIC_DEF("warn", 1, console_print, STDERR_FILENO),
    JS_CFUNC_MAGIC_DEF("error", 1, console_print, STDERR_FILENO),
};

static int install_console(JSContext *ctx)
{
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue console = JS_NewObject(ctx);
    int status = -1;
    if (!JS_IsException(console)) {
        JS_SetPropertyFunctionList(ctx, console, console_functions, countof(console_functions));
        status = JS_SetPropertyStr(ctx, global, "console", console);
    }
    JS_FreeValue(ctx, global);
    return status;
}

static PayloadStatus read_shared_program(const char *path, uint8_t **payload, size_t *payload_length, char *problem,
                                         size_t problem_size);

/* "sys", or a compiled module in the shared-program format named by its absolute path: a DLL (csrss's
 * server DLLs), loaded with import(path) at run time. A bundle's own code never imports anything else. */
static JSModuleDef *load_module(JSContext *ctx, const char *name, void *opaque)
{
    (void)opaque;
    if (strcmp(name, "sys") == 0)
        return sys_module_new(ctx, name, program_argc, program_argv);
    if (name[0] != '/') {
        JS_ThrowReferenceError(ctx, "cannot import '%s': a guest program is a single bundle that imports only 'sys' "
                                    "(and DLLs by absolute path)", name);
        return NULL;
    }
    uint8_t *payload = NULL;
    size_t payload_length = 0;
    char problem[512];
    PayloadStatus status = read_shared_program(name, &payload, &payload_length, problem, sizeof problem);
    if (status != PAYLOAD_PRESENT) {
        JS_ThrowReferenceError(ctx, "cannot import '%s': %s", name, status == PAYLOAD_ABSENT ? "not a compiled module" : problem);
        return NULL;
    }
    /* ROM_DATA: the bytecode stays in the payload buffer, which is never freed while the module lives. */
    JSValue module = JS_ReadObject(ctx, payload, payload_length, JS_READ_OBJ_BYTECODE | JS_READ_OBJ_ROM_DATA);
    if (JS_IsException(module))
        return NULL;
    if (JS_VALUE_GET_TAG(module) != JS_TAG_MODULE) {
        JS_FreeValue(ctx, module);
        JS_ThrowReferenceError(ctx, "cannot import '%s': its bytecode is not a module", name);
        return NULL;
    }
    JSModuleDef *definition = JS_VALUE_GET_PTR(module);
    JS_FreeValue(ctx, module);
    return definition;
}

/* QuickJS reports a rejection without a handler, and later reports it handled if one is attached; what
 * is still unhandled once no job is left is an error of the program, as an uncaught exception is. */
static void track_rejection(JSContext *ctx, JSValueConst promise, JSValueConst reason, JS_BOOL is_handled,
                            void *opaque)
{
    (void)opaque;
    if (is_handled) {
        for (size_t index = 0; index < unhandled_rejection_count; index++) {
            if (JS_VALUE_GET_PTR(unhandled_rejections[index].promise) != JS_VALUE_GET_PTR(promise))
                continue;
            JS_FreeValue(ctx, unhandled_rejections[index].promise);
            JS_FreeValue(ctx, unhandled_rejections[index].reason);
            unhandled_rejections[index] = unhandled_rejections[--unhandled_rejection_count];
            return;
        }
        return;
    }
    if (unhandled_rejection_count == unhandled_rejection_capacity) {
        size_t capacity = unhandled_rejection_capacity ? unhandled_rejection_capacity * 2 : 4;
        UnhandledRejection *grown = realloc(unhandled_rejections, capacity * sizeof *grown);
        if (!grown) {
            report_value(ctx, "Unhandled promise rejection (and no memory to defer it): ", reason);
            exit(EXIT_PROGRAM_FAILED);
        }
        unhandled_rejections = grown;
        unhandled_rejection_capacity = capacity;
    }
    unhandled_rejections[unhandled_rejection_count].promise = JS_DupValue(ctx, promise);
    unhandled_rejections[unhandled_rejection_count].reason = JS_DupValue(ctx, reason);
    unhandled_rejection_count++;
}

/* The engine's default first collection comes at 256 KiB, which a program of some size passes while
 * merely loading its bytecode; collecting then finds nothing to free and costs about 5% of startup. */
#define INITIAL_GC_THRESHOLD (1024 * 1024)

/* NULL, with the reason printed, when the engine cannot be created. */
static JSContext *new_context(JSRuntime **runtime)
{
    JSContext *ctx = NULL;
    *runtime = JS_NewRuntime2(&engine_allocator, NULL);
    if (*runtime) {
        JS_SetGCThreshold(*runtime, INITIAL_GC_THRESHOLD);
        ctx = JS_NewContext(*runtime);
    }
    if (!ctx)
        dprintf(STDERR_FILENO, "%s: cannot create the JavaScript engine (out of memory)\n", program_name);
    return ctx;
}

static int run_program(const uint8_t *payload, size_t payload_length)
{
    JSRuntime *rt;
    JSContext *ctx = new_context(&rt);
    if (!ctx)
        return EXIT_PROGRAM_FAILED;
    JS_SetModuleLoaderFunc(rt, NULL, load_module, NULL);
    JS_SetHostPromiseRejectionTracker(rt, track_rejection, NULL);
    if (install_console(ctx) < 0) {
        report_exception(ctx, "cannot install console: ");
        return EXIT_PROGRAM_FAILED;
    }

    /* ROM_DATA: the bytecode stays in the payload buffer, which lives as long as the process. */
    JSValue module = JS_ReadObject(ctx, payload, payload_length, JS_READ_OBJ_BYTECODE | JS_READ_OBJ_ROM_DATA);
    if (JS_IsException(module)) {
        report_exception(ctx, "cannot load the program's bytecode: ");
        return EXIT_BAD_EXECUTABLE;
    }
    if (JS_VALUE_GET_TAG(module) != JS_TAG_MODULE) {
        dprintf(STDERR_FILENO, "%s: the payload is not a compiled module\n", program_name);
        return EXIT_BAD_EXECUTABLE;
    }
    if (JS_ResolveModule(ctx, module) < 0) {
        report_exception(ctx, "");
        return EXIT_PROGRAM_FAILED;
    }
    JSValue result = JS_EvalFunction(ctx, module);
    if (JS_IsException(result)) {
        report_exception(ctx, "Uncaught ");
        return EXIT_PROGRAM_FAILED;
    }
    JS_FreeValue(ctx, result);

    for (;;) {
        JSContext *job_context;
        int status = JS_ExecutePendingJob(rt, &job_context);
        if (status == 0)
            break;
        if (status < 0) {
            report_exception(job_context, "Uncaught ");
            return EXIT_PROGRAM_FAILED;
        }
    }
    for (size_t index = 0; index < unhandled_rejection_count; index++)
        report_value(ctx, "Uncaught (in promise) ", unhandled_rejections[index].reason);
    return unhandled_rejection_count ? EXIT_PROGRAM_FAILED : EXIT_SUCCESS;
}

static uint8_t *read_whole_file(const char *path, size_t *length)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat status;
    uint8_t *buffer = NULL;
    if (fd < 0 || fstat(fd, &status) < 0)
        goto fail;
    /* One byte more for the NUL that the parser requires after the source. */
    buffer = malloc((size_t)status.st_size + 1);
    if (!buffer || read_exactly_at(fd, buffer, (size_t)status.st_size, 0) < 0)
        goto fail;
    buffer[status.st_size] = 0;
    *length = (size_t)status.st_size;
    close(fd);
    return buffer;
fail:
    if (fd >= 0)
        close(fd);
    free(buffer);
    return NULL;
}

static int write_whole_file(const char *path, const uint8_t *data, size_t length)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < length) {
        ssize_t count = write(fd, data + done, length - done);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)count;
    }
    return close(fd);
}

/* The module is named after the source file's base name so that stack traces read "main.js:12" wherever
 * the host happened to write the bundle. */
static int compile_module(const char *source_path, const char *output_path)
{
    size_t source_length;
    uint8_t *source = read_whole_file(source_path, &source_length);
    if (!source) {
        dprintf(STDERR_FILENO, "%s: cannot read %s: %s\n", program_name, source_path, strerror(errno));
        return EXIT_BAD_EXECUTABLE;
    }
    const char *slash = strrchr(source_path, '/');
    const char *module_name = slash ? slash + 1 : source_path;
    JSRuntime *rt;
    JSContext *ctx = new_context(&rt);
    if (!ctx)
        return EXIT_PROGRAM_FAILED;
    /* The parser resolves imports as it compiles, which also rejects any import but "sys" here, at build
     * time, rather than when the program starts in the guest. */
    JS_SetModuleLoaderFunc(rt, NULL, load_module, NULL);
    JSValue module = JS_Eval(ctx, (const char *)source, source_length, module_name,
                             JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(module)) {
        report_exception(ctx, "cannot compile: ");
        return EXIT_PROGRAM_FAILED;
    }
    size_t bytecode_length;
    uint8_t *bytecode = JS_WriteObject(ctx, &bytecode_length, module, JS_WRITE_OBJ_BYTECODE);
    if (!bytecode) {
        report_exception(ctx, "cannot serialize the compiled module: ");
        return EXIT_PROGRAM_FAILED;
    }
    if (write_whole_file(output_path, bytecode, bytecode_length) < 0) {
        dprintf(STDERR_FILENO, "%s: cannot write %s: %s\n", program_name, output_path, strerror(errno));
        return EXIT_BAD_EXECUTABLE;
    }
    return EXIT_SUCCESS;
}

static void name_program(int argc, char **argv)
{
    program_argc = argc;
    program_argv = argv;
    if (argc > 0 && argv[0][0]) {
        const char *slash = strrchr(argv[0], '/');
        program_name = slash ? slash + 1 : argv[0];
    }
}

int main(int argc, char **argv)
{
    name_program(argc, argv);
    uint8_t *payload = NULL;
    size_t payload_length = 0;
    char problem[512];

    /* Started by binfmt_misc for a program of the shared runtime: argv[1] is the program's path, which the
     * kernel also recorded as the file it executed, and argv[2] the argv[0] the program's parent gave. */
    const char *executed = (const char *)getauxval(AT_EXECFN);
    if (argc >= 3 && executed && strcmp(argv[1], executed) == 0) {
        PayloadStatus status = read_shared_program(argv[1], &payload, &payload_length, problem, sizeof problem);
        if (status != PAYLOAD_ABSENT)
            name_program(argc - 2, argv + 2);
        if (status == PAYLOAD_PRESENT)
            return run_program(payload, payload_length);
        if (status == PAYLOAD_DAMAGED) {
            dprintf(STDERR_FILENO, "%s: %s\n", program_name, problem);
            return EXIT_BAD_EXECUTABLE;
        }
    }

    const char *own_path;
    int fd = open_own_executable(&own_path);
    if (fd < 0) {
        dprintf(STDERR_FILENO, "%s: cannot open its own executable to find the program in it: %s: %s\n",
                program_name, own_path, strerror(errno));
        return EXIT_BAD_EXECUTABLE;
    }
    PayloadStatus status = read_payload(fd, own_path, &payload, &payload_length, problem, sizeof problem);
    close(fd);

    switch (status) {
    case PAYLOAD_PRESENT:
        return run_program(payload, payload_length);
    case PAYLOAD_DAMAGED:
        dprintf(STDERR_FILENO, "%s: %s\n", program_name, problem);
        return EXIT_BAD_EXECUTABLE;
    case PAYLOAD_ABSENT:
        break;
    }
    if (argc == 4 && strcmp(argv[1], "--compile") == 0)
        return compile_module(argv[2], argv[3]);
    dprintf(STDERR_FILENO,
            "%s: %s carries no program (no \"" TRAILER_MAGIC "\" trailer at its end).\n"
            "A guest program is this runtime followed by compiled bytecode (see images/guest.ts).\n"
            "usage: %s --compile SOURCE.js OUTPUT.qbc\n",
            program_name, own_path, program_name);
    return EXIT_BAD_EXECUTABLE;
}
