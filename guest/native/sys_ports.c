/* Ports: the NT LPC ports of the subsystems (\SmApiPort, \Windows\ApiPort, ...) are Unix sockets in the
 * object namespace tree. SOCK_SEQPACKET keeps each message whole (one write, one read) and tells a reader
 * when the other end has gone (a read of zero bytes), as a port's connection does; the kernel vouches for
 * the peer's pid and uid (SO_PEERCRED), which is how a server refuses callers that are not the system. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "sys_internal.h"

/* A port's socket and its address, or -1 with errno set (ENAMETOOLONG when path does not fit sun_path). */
static int port_socket(const char *path, struct sockaddr_un *address)
{
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(address->sun_path, path);
    return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

static int create_port(const char *path, int backlog)
{
    struct sockaddr_un address;
    int fd = port_socket(path, &address);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, backlog) < 0)
        return sys_close_keeping_errno(fd);
    return fd;
}

static int connect_port(const char *path)
{
    struct sockaddr_un address;
    int fd = port_socket(path, &address);
    if (fd < 0)
        return -1;
    int result;
    do
        result = connect(fd, (struct sockaddr *)&address, sizeof address);
    while (result < 0 && errno == EINTR);
    return result < 0 ? sys_close_keeping_errno(fd) : fd;
}

static JSValue sys_create_port(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "createPort", "path");
    if (!path)
        return JS_EXCEPTION;
    int64_t backlog;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_optional_int64(ctx, argv[1], "createPort", "backlog", 1, 4096, 16, &backlog) == 0) {
        int fd = create_port(path, (int)backlog);
        result = fd < 0 ? sys_throw_errno(ctx, "bind", path, errno) : JS_NewInt32(ctx, fd);
    }
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_connect_port(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "connectPort", "path");
    if (!path)
        return JS_EXCEPTION;
    int fd = connect_port(path);
    JSValue result = fd < 0 ? sys_throw_errno(ctx, "connect", path, errno) : JS_NewInt32(ctx, fd);
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_accept(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "accept", &fd) < 0)
        return JS_EXCEPTION;
    int connection;
    do
        connection = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    while (connection < 0 && errno == EINTR);
    return connection < 0 ? sys_throw_errno(ctx, "accept", NULL, errno) : JS_NewInt32(ctx, connection);
}

static JSValue sys_peer_credentials(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "peerCredentials", &fd) < 0)
        return JS_EXCEPTION;
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
        return sys_throw_errno(ctx, "getsockopt", NULL, errno);
    JSValue object = JS_NewObject(ctx);
    if (JS_IsException(object))
        return object;
    if (sys_set_number(ctx, object, "pid", credentials.pid) < 0 || sys_set_number(ctx, object, "uid", credentials.uid) < 0 ||
        sys_set_number(ctx, object, "gid", credentials.gid) < 0) {
        JS_FreeValue(ctx, object);
        return JS_EXCEPTION;
    }
    return object;
}

const JSCFunctionListEntry sys_port_functions[] = {
    JS_CFUNC_DEF("createPort", 2, sys_create_port),
    JS_CFUNC_DEF("connectPort", 1, sys_connect_port),
    JS_CFUNC_DEF("accept", 1, sys_accept),
    JS_CFUNC_DEF("peerCredentials", 1, sys_peer_credentials),
};
const int sys_port_function_count = SYS_COUNT_OF(sys_port_functions);
