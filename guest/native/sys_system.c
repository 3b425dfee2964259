/* The machine as a whole: power state, identity, memory, clocks, the environment block and kernel modules. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "sys_internal.h"

extern char **environ;

static const struct {
    const char *name;
    int command;
} reboot_commands[] = {
    { "power-off", RB_POWER_OFF },
    { "halt", RB_HALT_SYSTEM },
    { "restart", RB_AUTOBOOT },
};

/* Returns only by throwing: on success the machine is gone. The caller syncs first; reboot(2) does not. */
static JSValue sys_reboot(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *name = sys_arg_string(ctx, argv[0], "reboot", "command");
    if (!name)
        return JS_EXCEPTION;
    int command = -1;
    for (int index = 0; index < SYS_COUNT_OF(reboot_commands); index++)
        if (strcmp(name, reboot_commands[index].name) == 0)
            command = reboot_commands[index].command;
    JSValue result;
    if (command == -1) {
        result = JS_ThrowRangeError(ctx, "sys.reboot: command must be \"power-off\", \"halt\" or \"restart\", got \"%s\"",
                                    name);
    } else {
        reboot(command);
        result = sys_throw_errno(ctx, "reboot", NULL, errno);
    }
    JS_FreeCString(ctx, name);
    return result;
}

static JSValue sys_uname(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    struct utsname names;
    if (uname(&names) < 0)
        return sys_throw_errno(ctx, "uname", NULL, errno);
    JSValue object = JS_NewObject(ctx);
    if (JS_IsException(object))
        return object;
    if (sys_set_string(ctx, object, "sysname", names.sysname) < 0 ||
        sys_set_string(ctx, object, "nodename", names.nodename) < 0 ||
        sys_set_string(ctx, object, "release", names.release) < 0 ||
        sys_set_string(ctx, object, "version", names.version) < 0 ||
        sys_set_string(ctx, object, "machine", names.machine) < 0) {
        JS_FreeValue(ctx, object);
        return JS_EXCEPTION;
    }
    return object;
}

static JSValue sys_sysinfo(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    struct sysinfo info;
    if (sysinfo(&info) < 0)
        return sys_throw_errno(ctx, "sysinfo", NULL, errno);
    double unit = info.mem_unit ? info.mem_unit : 1;
    JSValue object = JS_NewObject(ctx);
    if (JS_IsException(object))
        return object;
    if (sys_set_number(ctx, object, "uptimeSeconds", (double)info.uptime) < 0 ||
        sys_set_number(ctx, object, "totalRam", (double)info.totalram * unit) < 0 ||
        sys_set_number(ctx, object, "freeRam", (double)info.freeram * unit) < 0 ||
        sys_set_number(ctx, object, "sharedRam", (double)info.sharedram * unit) < 0 ||
        sys_set_number(ctx, object, "bufferRam", (double)info.bufferram * unit) < 0 ||
        sys_set_number(ctx, object, "totalSwap", (double)info.totalswap * unit) < 0 ||
        sys_set_number(ctx, object, "freeSwap", (double)info.freeswap * unit) < 0 ||
        sys_set_number(ctx, object, "processes", info.procs) < 0) {
        JS_FreeValue(ctx, object);
        return JS_EXCEPTION;
    }
    return object;
}

static JSValue sys_sleep(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t milliseconds;
    if (sys_arg_int64(ctx, argv[0], "sleep", "milliseconds", 0, INT32_MAX, &milliseconds) < 0)
        return JS_EXCEPTION;
    struct timespec remaining = { .tv_sec = milliseconds / 1000, .tv_nsec = (milliseconds % 1000) * 1000000 };
    while (nanosleep(&remaining, &remaining) < 0) {
        if (errno != EINTR)
            return sys_throw_errno(ctx, "nanosleep", NULL, errno);
    }
    return JS_UNDEFINED;
}

static JSValue clock_ms(JSContext *ctx, clockid_t clock, const char *name)
{
    struct timespec now;
    if (clock_gettime(clock, &now) < 0)
        return sys_throw_errno(ctx, name, NULL, errno);
    return JS_NewFloat64(ctx, (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6);
}

static JSValue sys_monotonic_ms(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    return clock_ms(ctx, CLOCK_MONOTONIC, "clock_gettime");
}

static JSValue sys_realtime_ms(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    return clock_ms(ctx, CLOCK_REALTIME, "clock_gettime");
}

static JSValue sys_getenv(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *name = sys_arg_string(ctx, argv[0], "getenv", "name");
    if (!name)
        return JS_EXCEPTION;
    const char *value = getenv(name);
    JS_FreeCString(ctx, name);
    return value ? JS_NewString(ctx, value) : JS_UNDEFINED;
}

static JSValue sys_environ(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    JSValue entries = JS_NewArray(ctx);
    uint32_t index = 0;
    for (char **cursor = environ; !JS_IsException(entries) && cursor && *cursor; cursor++) {
        if (JS_SetPropertyUint32(ctx, entries, index++, JS_NewString(ctx, *cursor)) < 0) {
            JS_FreeValue(ctx, entries);
            entries = JS_EXCEPTION;
        }
    }
    return entries;
}

/* finit_module(2) on the opened file rather than init_module(2) on a copy: the kernel reads the file itself,
 * so no JS-side buffer the size of the module is needed. glibc has no wrapper for it. */
static JSValue sys_load_kernel_module(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "loadKernelModule", "path");
    if (!path)
        return JS_EXCEPTION;
    JSValue result = JS_UNDEFINED;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        result = sys_throw_errno(ctx, "open", path, errno);
    } else {
        if (syscall(SYS_finit_module, fd, "", 0) < 0)
            result = sys_throw_errno(ctx, "finit_module", path, errno);
        close(fd);
    }
    JS_FreeCString(ctx, path);
    return result;
}

const JSCFunctionListEntry sys_system_functions[] = {
    JS_CFUNC_DEF("reboot", 1, sys_reboot),
    JS_CFUNC_DEF("uname", 0, sys_uname),
    JS_CFUNC_DEF("sysinfo", 0, sys_sysinfo),
    JS_CFUNC_DEF("sleep", 1, sys_sleep),
    JS_CFUNC_DEF("monotonicMs", 0, sys_monotonic_ms),
    JS_CFUNC_DEF("realtimeMs", 0, sys_realtime_ms),
    JS_CFUNC_DEF("getenv", 1, sys_getenv),
    JS_CFUNC_DEF("environ", 0, sys_environ),
    JS_CFUNC_DEF("loadKernelModule", 1, sys_load_kernel_module),
};
const int sys_system_function_count = SYS_COUNT_OF(sys_system_functions);
