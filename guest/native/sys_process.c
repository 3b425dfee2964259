/* Processes: starting, reaping and signalling them. spawn() is clone(CLONE_VM | CLONE_VFORK) + execve,
 * the way vfork works but with a stack of the child's own: the child borrows the parent's memory until it
 * execs, so starting a program costs no page-table copy of the whole QuickJS heap (noticeable on an
 * emulated CPU), and an exec failure comes back as a SysError in the parent. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sys_internal.h"

extern char **environ;

#define STANDARD_STREAM_COUNT 3
#define CHILD_STACK_SIZE (32 * 1024)

typedef struct {
    int stream_fds[STANDARD_STREAM_COUNT]; /* -1: inherit the parent's */
    int new_session;
    const char *cwd;
    int64_t uid, gid; /* -1: keep the parent's */
    int64_t nice;     /* 0: the parent's priority; 1..19 lower */
} SpawnOptions;

static const char *const stream_names[STANDARD_STREAM_COUNT] = { "stdin", "stdout", "stderr" };

static int read_spawn_options(JSContext *ctx, JSValueConst value, SpawnOptions *options)
{
    for (int stream = 0; stream < STANDARD_STREAM_COUNT; stream++)
        options->stream_fds[stream] = -1;
    options->new_session = 0;
    options->cwd = NULL;
    options->uid = options->gid = -1;
    options->nice = 0;
    if (JS_IsUndefined(value) || JS_IsNull(value))
        return 0;
    if (!JS_IsObject(value)) {
        JS_ThrowTypeError(ctx, "sys.spawn: options must be an object");
        return -1;
    }
    for (int stream = 0; stream < STANDARD_STREAM_COUNT; stream++) {
        JSValue fd_value = JS_GetPropertyStr(ctx, value, stream_names[stream]);
        int64_t fd;
        int status = sys_arg_optional_int64(ctx, fd_value, "spawn", stream_names[stream], 0, INT32_MAX, -1, &fd);
        JS_FreeValue(ctx, fd_value);
        if (status < 0)
            return -1;
        options->stream_fds[stream] = (int)fd;
    }
    JSValue setsid_value = JS_GetPropertyStr(ctx, value, "setsid");
    if (JS_IsException(setsid_value))
        return -1;
    options->new_session = JS_ToBool(ctx, setsid_value);
    JS_FreeValue(ctx, setsid_value);
    static const char *const id_names[2] = { "uid", "gid" };
    int64_t *ids[2] = { &options->uid, &options->gid };
    for (int id = 0; id < 2; id++) {
        JSValue id_value = JS_GetPropertyStr(ctx, value, id_names[id]);
        int status = sys_arg_optional_int64(ctx, id_value, "spawn", id_names[id], 0, 65534, -1, ids[id]);
        JS_FreeValue(ctx, id_value);
        if (status < 0)
            return -1;
    }
    JSValue nice_value = JS_GetPropertyStr(ctx, value, "nice");
    int nice_status = sys_arg_optional_int64(ctx, nice_value, "spawn", "nice", 0, 19, 0, &options->nice);
    JS_FreeValue(ctx, nice_value);
    if (nice_status < 0)
        return -1;
    JSValue cwd_value = JS_GetPropertyStr(ctx, value, "cwd");
    int status = sys_arg_optional_string(ctx, cwd_value, "spawn", "cwd", &options->cwd);
    JS_FreeValue(ctx, cwd_value);
    return status;
}

/* What the child needs, and where it reports a failure: the child shares this memory with the parent
 * until it execs or exits, and the parent sleeps until then (CLONE_VFORK), so no locking is needed. */
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const SpawnOptions *options;
    sigset_t parent_signal_mask;
    int failed_errno;
    const char *failed_step;
} ExecRequest;

/* glibc's setuid and friends change every thread of the process in turn, bookkeeping that a child sharing
 * its parent's memory must not touch: the child makes the system calls itself (the 32-bit-id ones on i386). */
enum { ID_SETGROUPS, ID_SETGID, ID_SETUID };
static long raw_id_call(int which, int64_t id)
{
#ifdef SYS_setgid32
    static const long numbers[] = { SYS_setgroups32, SYS_setgid32, SYS_setuid32 };
#else
    static const long numbers[] = { SYS_setgroups, SYS_setgid, SYS_setuid };
#endif
    return which == ID_SETGROUPS ? syscall(numbers[which], 0, NULL) : syscall(numbers[which], (long)id);
}

/* The child runs on a stack of its own, so it cannot overwrite anything of the parent's but the request.
 * Two passes over the standard streams so that swapped ones (stdout=2, stderr=1) are not clobbered:
 * first copy every source above the standard range, then move the copies into place. */
static int exec_child(void *argument)
{
    ExecRequest *request = argument;
    const SpawnOptions *options = request->options;
    int staged[STANDARD_STREAM_COUNT];
    for (int stream = 0; stream < STANDARD_STREAM_COUNT; stream++) {
        staged[stream] = -1;
        if (options->stream_fds[stream] < 0)
            continue;
        staged[stream] = fcntl(options->stream_fds[stream], F_DUPFD_CLOEXEC, STANDARD_STREAM_COUNT);
        if (staged[stream] < 0) {
            request->failed_step = "dup";
            goto fail;
        }
    }
    for (int stream = 0; stream < STANDARD_STREAM_COUNT; stream++) {
        if (staged[stream] >= 0 && dup2(staged[stream], stream) < 0) {
            request->failed_step = "dup2";
            goto fail;
        }
    }
    if (options->new_session && setsid() < 0) {
        request->failed_step = "setsid";
        goto fail;
    }
    /* The group first: once the user id is dropped, changing groups is no longer allowed. Supplementary
     * groups go too, or the child would keep root's. */
    if (options->gid >= 0 && (raw_id_call(ID_SETGROUPS, 0) < 0 || raw_id_call(ID_SETGID, options->gid) < 0)) {
        request->failed_step = "setgid";
        goto fail;
    }
    if (options->uid >= 0 && raw_id_call(ID_SETUID, options->uid) < 0) {
        request->failed_step = "setuid";
        goto fail;
    }
    if (options->nice > 0 && setpriority(PRIO_PROCESS, 0, (int)options->nice) < 0) {
        request->failed_step = "setpriority";
        goto fail;
    }
    if (options->cwd && chdir(options->cwd) < 0) {
        request->failed_step = "chdir";
        goto fail;
    }
    /* A program starts with no signal blocked, whatever its parent blocks for its own signalfd. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(request->path, request->argv, request->envp);
    request->failed_step = "execve";
fail:
    request->failed_errno = errno;
    _exit(127);
}

static JSValue sys_spawn(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "spawn", "path");
    if (!path)
        return JS_EXCEPTION;
    JSValue result = JS_EXCEPTION;
    char **child_argv = NULL, **child_envp = NULL;
    uint8_t *child_stack = NULL;
    SpawnOptions options = { .cwd = NULL, .uid = -1, .gid = -1 };
    child_argv = sys_arg_string_array(ctx, argv[1], "spawn", "argv");
    if (!child_argv)
        goto done;
    if (!JS_IsUndefined(argv[2]) && !JS_IsNull(argv[2])) {
        child_envp = sys_arg_string_array(ctx, argv[2], "spawn", "envp");
        if (!child_envp)
            goto done;
    }
    if (read_spawn_options(ctx, argv[3], &options) < 0)
        goto done;
    child_stack = js_malloc(ctx, CHILD_STACK_SIZE);
    if (!child_stack)
        goto done;

    ExecRequest request = {
        .path = path, .argv = child_argv, .envp = child_envp ? child_envp : environ, .options = &options,
    };
    /* Signals stay blocked until the child execs: a handler of the parent's must not run on the child's
     * borrowed memory. */
    sigset_t all_signals;
    sigfillset(&all_signals);
    sigprocmask(SIG_SETMASK, &all_signals, &request.parent_signal_mask);
    pid_t pid = clone(exec_child, child_stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &request);
    int clone_errno = errno;
    sigprocmask(SIG_SETMASK, &request.parent_signal_mask, NULL);
    if (pid < 0) {
        result = sys_throw_errno(ctx, "clone", path, clone_errno);
        goto done;
    }
    if (request.failed_errno != 0) {
        /* The child has already exited; reap it so a failed start leaves no zombie behind. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        result = sys_throw_errno(ctx, request.failed_step, path, request.failed_errno);
        goto done;
    }
    result = JS_NewInt32(ctx, pid);
done:
    js_free(ctx, child_stack);
    sys_free_string_array(ctx, child_argv);
    sys_free_string_array(ctx, child_envp);
    if (options.cwd)
        JS_FreeCString(ctx, options.cwd);
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_waitpid(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t pid, flags;
    if (sys_arg_int64(ctx, argv[0], "waitpid", "pid", INT32_MIN, INT32_MAX, &pid) < 0 ||
        sys_arg_optional_int64(ctx, argv[1], "waitpid", "flags", 0, INT32_MAX, 0, &flags) < 0)
        return JS_EXCEPTION;
    int status;
    pid_t reaped;
    do
        reaped = waitpid((pid_t)pid, &status, (int)flags);
    while (reaped < 0 && errno == EINTR);
    if (reaped < 0)
        return sys_throw_errno(ctx, "waitpid", NULL, errno);
    if (reaped == 0)
        return JS_NULL;
    JSValue object = JS_NewObject(ctx);
    if (JS_IsException(object))
        return object;
    int exited = WIFEXITED(status), signaled = WIFSIGNALED(status);
    if (sys_set_number(ctx, object, "pid", reaped) < 0 || sys_set_number(ctx, object, "status", status) < 0 ||
        JS_DefinePropertyValueStr(ctx, object, "exited", JS_NewBool(ctx, exited), JS_PROP_C_W_E) < 0 ||
        JS_DefinePropertyValueStr(ctx, object, "code", exited ? JS_NewInt32(ctx, WEXITSTATUS(status)) : JS_NULL,
                                  JS_PROP_C_W_E) < 0 ||
        JS_DefinePropertyValueStr(ctx, object, "signal", signaled ? JS_NewInt32(ctx, WTERMSIG(status)) : JS_NULL,
                                  JS_PROP_C_W_E) < 0) {
        JS_FreeValue(ctx, object);
        return JS_EXCEPTION;
    }
    return object;
}

static JSValue sys_kill(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t pid, signal_number;
    if (sys_arg_int64(ctx, argv[0], "kill", "pid", INT32_MIN, INT32_MAX, &pid) < 0 ||
        sys_arg_int64(ctx, argv[1], "kill", "signal", 0, 64, &signal_number) < 0)
        return JS_EXCEPTION;
    if (kill((pid_t)pid, (int)signal_number) < 0)
        return sys_throw_errno(ctx, "kill", NULL, errno);
    return JS_UNDEFINED;
}

#define MAX_POLL_FDS 64

/* poll(2) over [{fd, events}] with a timeout in ms (-1: none); returns the revents, one per entry.
 * EINTR (a child's SIGCHLD) returns all zeros: the caller's loop looks again. */
static JSValue sys_poll(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t count_value, timeout;
    JSValue length = JS_GetPropertyStr(ctx, argv[0], "length");
    int status = sys_arg_int64(ctx, length, "poll", "fds.length", 0, MAX_POLL_FDS, &count_value);
    JS_FreeValue(ctx, length);
    if (status < 0 || sys_arg_int64(ctx, argv[1], "poll", "timeoutMs", -1, INT32_MAX, &timeout) < 0)
        return JS_EXCEPTION;
    struct pollfd fds[MAX_POLL_FDS];
    int count = (int)count_value;
    for (int index = 0; index < count; index++) {
        JSValue entry = JS_GetPropertyUint32(ctx, argv[0], (uint32_t)index);
        JSValue fd_value = JS_GetPropertyStr(ctx, entry, "fd"), events_value = JS_GetPropertyStr(ctx, entry, "events");
        int64_t fd, events;
        int failed = sys_arg_int64(ctx, fd_value, "poll", "fd", -1, INT32_MAX, &fd) < 0 ||
                     sys_arg_int64(ctx, events_value, "poll", "events", 0, 0xffff, &events) < 0;
        JS_FreeValue(ctx, fd_value);
        JS_FreeValue(ctx, events_value);
        JS_FreeValue(ctx, entry);
        if (failed)
            return JS_EXCEPTION;
        fds[index] = (struct pollfd){ .fd = (int)fd, .events = (short)events };
    }
    if (poll(fds, (nfds_t)count, (int)timeout) < 0) {
        if (errno != EINTR)
            return sys_throw_errno(ctx, "poll", NULL, errno);
        for (int index = 0; index < count; index++)
            fds[index].revents = 0;
    }
    JSValue result = JS_NewArray(ctx);
    for (int index = 0; index < count && !JS_IsException(result); index++) {
        if (JS_SetPropertyUint32(ctx, result, (uint32_t)index, JS_NewInt32(ctx, fds[index].revents)) < 0) {
            JS_FreeValue(ctx, result);
            result = JS_EXCEPTION;
        }
    }
    return result;
}

/* signalfd(2) for the given signals, which are blocked first so that they queue on the descriptor instead
 * of being acted on: a resident loop then waits for them in poll() with its other descriptors. Children
 * started by spawn() get the parent's mask restored before they exec. */
static JSValue sys_signalfd(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t count;
    JSValue length = JS_GetPropertyStr(ctx, argv[0], "length");
    int status = sys_arg_int64(ctx, length, "signalfd", "signals.length", 1, 64, &count);
    JS_FreeValue(ctx, length);
    if (status < 0)
        return JS_EXCEPTION;
    sigset_t signals;
    sigemptyset(&signals);
    for (int64_t index = 0; index < count; index++) {
        JSValue item = JS_GetPropertyUint32(ctx, argv[0], (uint32_t)index);
        int64_t signal_number;
        status = sys_arg_int64(ctx, item, "signalfd", "signal", 1, 64, &signal_number);
        JS_FreeValue(ctx, item);
        if (status < 0)
            return JS_EXCEPTION;
        sigaddset(&signals, (int)signal_number);
    }
    if (sigprocmask(SIG_BLOCK, &signals, NULL) < 0)
        return sys_throw_errno(ctx, "sigprocmask", NULL, errno);
    int fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return sys_throw_errno(ctx, "signalfd", NULL, errno);
    return JS_NewInt32(ctx, fd);
}

/* fork(2): the whole process, its JavaScript state included, copied on write. smss copies itself this way for
 * each session: no new runtime, context or bytecode to load (the exec of a fresh smss.exe cost ~1e7 guest
 * instructions). C's buffered output is written out first, or both processes would write it. */
static JSValue sys_fork(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return sys_throw_errno(ctx, "fork", NULL, errno);
    return JS_NewInt32(ctx, pid);
}

static JSValue sys_getpid(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    return JS_NewInt32(ctx, getpid());
}

static JSValue sys_getppid(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    return JS_NewInt32(ctx, getppid());
}

static JSValue sys_exit(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int64_t code;
    if (sys_arg_optional_int64(ctx, argv[0], "exit", "code", 0, 255, 0, &code) < 0)
        return JS_EXCEPTION;
    exit((int)code);
}

const JSCFunctionListEntry sys_process_functions[] = {
    JS_CFUNC_DEF("spawn", 4, sys_spawn),
    JS_CFUNC_DEF("waitpid", 2, sys_waitpid),
    JS_CFUNC_DEF("kill", 2, sys_kill),
    JS_CFUNC_DEF("poll", 2, sys_poll),
    JS_CFUNC_DEF("signalfd", 1, sys_signalfd),
    INT_CONSTANT(POLLIN),
    INT_CONSTANT(POLLOUT),
    INT_CONSTANT(POLLERR),
    INT_CONSTANT(POLLHUP),
    INT_CONSTANT(POLLNVAL),
    JS_CFUNC_DEF("fork", 0, sys_fork),
    JS_CFUNC_DEF("getpid", 0, sys_getpid),
    JS_CFUNC_DEF("getppid", 0, sys_getppid),
    JS_CFUNC_DEF("exit", 1, sys_exit),
    INT_CONSTANT(WNOHANG),
    INT_CONSTANT(SIGHUP),
    INT_CONSTANT(SIGINT),
    INT_CONSTANT(SIGQUIT),
    INT_CONSTANT(SIGKILL),
    INT_CONSTANT(SIGUSR1),
    INT_CONSTANT(SIGUSR2),
    INT_CONSTANT(SIGPIPE),
    INT_CONSTANT(SIGALRM),
    INT_CONSTANT(SIGTERM),
    INT_CONSTANT(SIGCHLD),
    INT_CONSTANT(SIGCONT),
    INT_CONSTANT(SIGSTOP),
};
const int sys_process_function_count = SYS_COUNT_OF(sys_process_functions);
