/* Files, directories and mounts. Descriptors opened here are close-on-exec: a child gets only what
 * spawn() maps onto its stdin/stdout/stderr, never a descriptor its parent happened to hold open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include "sys_internal.h"

#define MAX_OFFSET ((int64_t)1 << 53)

static JSValue call_with_path(JSContext *ctx, JSValueConst path_value, const char *function,
                              int (*syscall_function)(const char *))
{
    const char *path = sys_arg_string(ctx, path_value, function, "path");
    if (!path)
        return JS_EXCEPTION;
    JSValue result = syscall_function(path) < 0 ? sys_throw_errno(ctx, function, path, errno) : JS_UNDEFINED;
    JS_FreeCString(ctx, path);
    return result;
}

static ssize_t write_all(int fd, const uint8_t *data, size_t length)
{
    size_t done = 0;
    while (done < length) {
        ssize_t written = write(fd, data + done, length - done);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)written;
    }
    return (ssize_t)done;
}

static JSValue sys_open(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "open", "path");
    if (!path)
        return JS_EXCEPTION;
    int64_t flags, mode;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_int64(ctx, argv[1], "open", "flags", 0, INT32_MAX, &flags) == 0 &&
        sys_arg_optional_int64(ctx, argv[2], "open", "mode", 0, 07777, 0666, &mode) == 0) {
        int fd = open(path, (int)flags | O_CLOEXEC, (mode_t)mode);
        result = fd < 0 ? sys_throw_errno(ctx, "open", path, errno) : JS_NewInt32(ctx, fd);
    }
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_close(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "close", &fd) < 0)
        return JS_EXCEPTION;
    /* Linux releases the descriptor even when close() reports EINTR, so it must not be retried. */
    if (close(fd) < 0 && errno != EINTR)
        return sys_throw_errno(ctx, "close", NULL, errno);
    return JS_UNDEFINED;
}

static JSValue sys_read(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    int64_t max_length;
    if (sys_arg_fd(ctx, argv[0], "read", &fd) < 0 ||
        sys_arg_int64(ctx, argv[1], "read", "maxLength", 0, SYS_MAX_READ_LENGTH, &max_length) < 0)
        return JS_EXCEPTION;
    uint8_t *buffer = js_malloc(ctx, max_length ? (size_t)max_length : 1);
    if (!buffer)
        return JS_EXCEPTION;
    ssize_t count;
    do
        count = read(fd, buffer, (size_t)max_length);
    while (count < 0 && errno == EINTR);
    if (count < 0) {
        int error_number = errno;
        js_free(ctx, buffer);
        return sys_throw_errno(ctx, "read", NULL, error_number);
    }
    if (count < max_length) {
        uint8_t *shrunk = js_realloc(ctx, buffer, count ? (size_t)count : 1);
        if (shrunk)
            buffer = shrunk;
    }
    return sys_new_uint8array(ctx, buffer, (size_t)count);
}

static JSValue sys_write(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    SysBytes bytes;
    if (sys_arg_fd(ctx, argv[0], "write", &fd) < 0 || sys_arg_bytes(ctx, argv[1], "write", "data", &bytes) < 0)
        return JS_EXCEPTION;
    ssize_t written = write_all(fd, bytes.data, bytes.length);
    int error_number = errno;
    sys_release_bytes(ctx, &bytes);
    if (written < 0)
        return sys_throw_errno(ctx, "write", NULL, error_number);
    return JS_NewFloat64(ctx, (double)written);
}

static JSValue sys_lseek(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    int64_t offset, whence;
    if (sys_arg_fd(ctx, argv[0], "lseek", &fd) < 0 ||
        sys_arg_int64(ctx, argv[1], "lseek", "offset", -MAX_OFFSET, MAX_OFFSET, &offset) < 0 ||
        sys_arg_int64(ctx, argv[2], "lseek", "whence", 0, 4, &whence) < 0)
        return JS_EXCEPTION;
    off_t position = lseek(fd, (off_t)offset, (int)whence);
    if (position < 0)
        return sys_throw_errno(ctx, "lseek", NULL, errno);
    return JS_NewFloat64(ctx, (double)position);
}

static JSValue sys_fsync(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "fsync", &fd) < 0)
        return JS_EXCEPTION;
    if (fsync(fd) < 0)
        return sys_throw_errno(ctx, "fsync", NULL, errno);
    return JS_UNDEFINED;
}

static JSValue sys_ftruncate(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    int64_t length;
    if (sys_arg_fd(ctx, argv[0], "ftruncate", &fd) < 0 ||
        sys_arg_int64(ctx, argv[1], "ftruncate", "length", 0, MAX_OFFSET, &length) < 0)
        return JS_EXCEPTION;
    if (ftruncate(fd, (off_t)length) < 0)
        return sys_throw_errno(ctx, "ftruncate", NULL, errno);
    return JS_UNDEFINED;
}

/* Reads to end of file rather than trusting st_size: procfs and sysfs files report a size of 0. */
static JSValue sys_read_file(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "readFile", "path");
    if (!path)
        return JS_EXCEPTION;
    JSValue result = JS_EXCEPTION;
    uint8_t *buffer = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat status;
    if (fd < 0) {
        result = sys_throw_errno(ctx, "open", path, errno);
        goto done;
    }
    if (fstat(fd, &status) < 0) {
        result = sys_throw_errno(ctx, "fstat", path, errno);
        goto done;
    }
    if (status.st_size > (off_t)SYS_MAX_FILE_LENGTH) {
        result = sys_throw_errno(ctx, "readFile", path, EFBIG);
        goto done;
    }
    size_t capacity = status.st_size > 0 ? (size_t)status.st_size + 1 : 4096;
    size_t length = 0;
    buffer = js_malloc(ctx, capacity);
    if (!buffer)
        goto done;
    for (;;) {
        if (length == capacity) {
            if (capacity >= SYS_MAX_FILE_LENGTH) {
                result = sys_throw_errno(ctx, "readFile", path, EFBIG);
                goto done;
            }
            capacity = capacity * 2 > SYS_MAX_FILE_LENGTH ? SYS_MAX_FILE_LENGTH : capacity * 2;
            uint8_t *grown = js_realloc(ctx, buffer, capacity);
            if (!grown)
                goto done;
            buffer = grown;
        }
        ssize_t count = read(fd, buffer + length, capacity - length);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            result = sys_throw_errno(ctx, "read", path, errno);
            goto done;
        }
        if (count == 0)
            break;
        length += (size_t)count;
    }
    result = sys_new_uint8array(ctx, buffer, length);
    buffer = NULL;
done:
    js_free(ctx, buffer);
    if (fd >= 0)
        close(fd);
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_write_file(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "writeFile", "path");
    if (!path)
        return JS_EXCEPTION;
    JSValue result = JS_EXCEPTION;
    SysBytes bytes = { 0 };
    int64_t mode;
    if (sys_arg_bytes(ctx, argv[1], "writeFile", "data", &bytes) < 0 ||
        sys_arg_optional_int64(ctx, argv[2], "writeFile", "mode", 0, 07777, 0666, &mode) < 0)
        goto done;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        result = sys_throw_errno(ctx, "open", path, errno);
        goto done;
    }
    if (write_all(fd, bytes.data, bytes.length) < 0) {
        result = sys_throw_errno(ctx, "write", path, errno);
        close(fd);
        goto done;
    }
    result = close(fd) < 0 && errno != EINTR ? sys_throw_errno(ctx, "close", path, errno) : JS_UNDEFINED;
done:
    sys_release_bytes(ctx, &bytes);
    JS_FreeCString(ctx, path);
    return result;
}

static double timespec_ms(struct timespec time)
{
    return (double)time.tv_sec * 1e3 + (double)time.tv_nsec / 1e6;
}

static JSValue stat_object(JSContext *ctx, const struct stat *status)
{
    JSValue object = JS_NewObject(ctx);
    if (JS_IsException(object))
        return object;
    if (sys_set_number(ctx, object, "dev", (double)status->st_dev) < 0 ||
        sys_set_number(ctx, object, "ino", (double)status->st_ino) < 0 ||
        sys_set_number(ctx, object, "mode", status->st_mode) < 0 ||
        sys_set_number(ctx, object, "nlink", (double)status->st_nlink) < 0 ||
        sys_set_number(ctx, object, "uid", status->st_uid) < 0 ||
        sys_set_number(ctx, object, "gid", status->st_gid) < 0 ||
        sys_set_number(ctx, object, "rdevMajor", major(status->st_rdev)) < 0 ||
        sys_set_number(ctx, object, "rdevMinor", minor(status->st_rdev)) < 0 ||
        sys_set_number(ctx, object, "size", (double)status->st_size) < 0 ||
        sys_set_number(ctx, object, "blocks", (double)status->st_blocks) < 0 ||
        sys_set_number(ctx, object, "atimeMs", timespec_ms(status->st_atim)) < 0 ||
        sys_set_number(ctx, object, "mtimeMs", timespec_ms(status->st_mtim)) < 0 ||
        sys_set_number(ctx, object, "ctimeMs", timespec_ms(status->st_ctim)) < 0) {
        JS_FreeValue(ctx, object);
        return JS_EXCEPTION;
    }
    return object;
}

static JSValue stat_path(JSContext *ctx, JSValueConst path_value, const char *function,
                         int (*stat_function)(const char *, struct stat *))
{
    const char *path = sys_arg_string(ctx, path_value, function, "path");
    if (!path)
        return JS_EXCEPTION;
    struct stat status;
    JSValue result = stat_function(path, &status) < 0 ? sys_throw_errno(ctx, function, path, errno)
                                                     : stat_object(ctx, &status);
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_stat(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return stat_path(ctx, argv[0], "stat", stat);
}

static JSValue sys_lstat(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return stat_path(ctx, argv[0], "lstat", lstat);
}

static JSValue sys_fstat(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "fstat", &fd) < 0)
        return JS_EXCEPTION;
    struct stat status;
    if (fstat(fd, &status) < 0)
        return sys_throw_errno(ctx, "fstat", NULL, errno);
    return stat_object(ctx, &status);
}

static JSValue sys_readdir(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "readdir", "path");
    if (!path)
        return JS_EXCEPTION;
    DIR *directory = opendir(path);
    if (!directory) {
        JSValue error = sys_throw_errno(ctx, "opendir", path, errno);
        JS_FreeCString(ctx, path);
        return error;
    }
    JSValue names = JS_NewArray(ctx);
    uint32_t count = 0;
    for (;;) {
        if (JS_IsException(names))
            break;
        errno = 0;
        struct dirent *entry = readdir(directory);
        if (!entry) {
            if (errno != 0) {
                JS_FreeValue(ctx, names);
                names = sys_throw_errno(ctx, "readdir", path, errno);
            }
            break;
        }
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (JS_SetPropertyUint32(ctx, names, count++, JS_NewString(ctx, entry->d_name)) < 0) {
            JS_FreeValue(ctx, names);
            names = JS_EXCEPTION;
        }
    }
    closedir(directory);
    JS_FreeCString(ctx, path);
    return names;
}

static JSValue sys_mkdir(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "mkdir", "path");
    if (!path)
        return JS_EXCEPTION;
    int64_t mode;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_optional_int64(ctx, argv[1], "mkdir", "mode", 0, 07777, 0777, &mode) == 0)
        result = mkdir(path, (mode_t)mode) < 0 ? sys_throw_errno(ctx, "mkdir", path, errno) : JS_UNDEFINED;
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_rmdir(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "rmdir", rmdir);
}

static JSValue sys_unlink(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "unlink", unlink);
}

static JSValue sys_chdir(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "chdir", chdir);
}

/* For calls taking two paths; an error names the second one, the path being created or replaced. */
static JSValue call_with_two_paths(JSContext *ctx, JSValueConst *argv, const char *function, const char *first_name,
                                   const char *second_name, int (*syscall_function)(const char *, const char *))
{
    const char *first = sys_arg_string(ctx, argv[0], function, first_name);
    if (!first)
        return JS_EXCEPTION;
    const char *second = sys_arg_string(ctx, argv[1], function, second_name);
    JSValue result = JS_EXCEPTION;
    if (second) {
        result = syscall_function(first, second) < 0 ? sys_throw_errno(ctx, function, second, errno) : JS_UNDEFINED;
        JS_FreeCString(ctx, second);
    }
    JS_FreeCString(ctx, first);
    return result;
}

static JSValue sys_rename(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_two_paths(ctx, argv, "rename", "oldPath", "newPath", rename);
}

static JSValue sys_symlink(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_two_paths(ctx, argv, "symlink", "target", "linkPath", symlink);
}

static JSValue sys_link(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_two_paths(ctx, argv, "link", "existingPath", "newPath", link);
}

static JSValue sys_readlink(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "readlink", "path");
    if (!path)
        return JS_EXCEPTION;
    char target[PATH_MAX];
    ssize_t length = readlink(path, target, sizeof target);
    JSValue result;
    if (length < 0)
        result = sys_throw_errno(ctx, "readlink", path, errno);
    else if ((size_t)length == sizeof target)
        result = sys_throw_errno(ctx, "readlink", path, ENAMETOOLONG);
    else
        result = JS_NewStringLen(ctx, target, (size_t)length);
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_getcwd(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc, (void)argv;
    char path[PATH_MAX];
    if (!getcwd(path, sizeof path))
        return sys_throw_errno(ctx, "getcwd", NULL, errno);
    return JS_NewString(ctx, path);
}

static JSValue sys_mknod(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "mknod", "path");
    if (!path)
        return JS_EXCEPTION;
    int64_t mode, major_number, minor_number;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_int64(ctx, argv[1], "mknod", "mode", 0, 0177777, &mode) == 0 &&
        sys_arg_optional_int64(ctx, argv[2], "mknod", "major", 0, 4095, 0, &major_number) == 0 &&
        sys_arg_optional_int64(ctx, argv[3], "mknod", "minor", 0, 1048575, 0, &minor_number) == 0) {
        dev_t device = makedev((unsigned)major_number, (unsigned)minor_number);
        result = mknod(path, (mode_t)mode, device) < 0 ? sys_throw_errno(ctx, "mknod", path, errno) : JS_UNDEFINED;
    }
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_mount(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
    int64_t flags;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_optional_string(ctx, argv[0], "mount", "source", &source) == 0 &&
        (target = sys_arg_string(ctx, argv[1], "mount", "target")) != NULL &&
        sys_arg_optional_string(ctx, argv[2], "mount", "fstype", &fstype) == 0 &&
        sys_arg_optional_int64(ctx, argv[3], "mount", "flags", 0, UINT32_MAX, 0, &flags) == 0 &&
        sys_arg_optional_string(ctx, argv[4], "mount", "data", &data) == 0) {
        result = mount(source, target, fstype, (unsigned long)flags, data) < 0
                     ? sys_throw_errno(ctx, "mount", target, errno)
                     : JS_UNDEFINED;
    }
    if (source)
        JS_FreeCString(ctx, source);
    if (target)
        JS_FreeCString(ctx, target);
    if (fstype)
        JS_FreeCString(ctx, fstype);
    if (data)
        JS_FreeCString(ctx, data);
    return result;
}

static JSValue sys_umount(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *target = sys_arg_string(ctx, argv[0], "umount", "target");
    if (!target)
        return JS_EXCEPTION;
    int64_t flags;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_optional_int64(ctx, argv[1], "umount", "flags", 0, INT32_MAX, 0, &flags) == 0)
        result = umount2(target, (int)flags) < 0 ? sys_throw_errno(ctx, "umount", target, errno) : JS_UNDEFINED;
    JS_FreeCString(ctx, target);
    return result;
}

static JSValue sys_chmod(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "chmod", "path");
    if (!path)
        return JS_EXCEPTION;
    int64_t mode;
    JSValue result = JS_EXCEPTION;
    if (sys_arg_int64(ctx, argv[1], "chmod", "mode", 0, 07777, &mode) == 0)
        result = chmod(path, (mode_t)mode) < 0 ? sys_throw_errno(ctx, "chmod", path, errno) : JS_UNDEFINED;
    JS_FreeCString(ctx, path);
    return result;
}

static JSValue sys_statfs(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    const char *path = sys_arg_string(ctx, argv[0], "statfs", "path");
    if (!path)
        return JS_EXCEPTION;
    struct statfs status;
    JSValue result;
    if (statfs(path, &status) < 0) {
        result = sys_throw_errno(ctx, "statfs", path, errno);
    } else {
        result = JS_NewObject(ctx);
        if (!JS_IsException(result) &&
            (sys_set_number(ctx, result, "type", (double)(uint32_t)status.f_type) < 0 ||
             sys_set_number(ctx, result, "blockSize", (double)status.f_bsize) < 0 ||
             sys_set_number(ctx, result, "blocks", (double)status.f_blocks) < 0 ||
             sys_set_number(ctx, result, "freeBlocks", (double)status.f_bfree) < 0 ||
             sys_set_number(ctx, result, "availableBlocks", (double)status.f_bavail) < 0)) {
            JS_FreeValue(ctx, result);
            result = JS_EXCEPTION;
        }
    }
    JS_FreeCString(ctx, path);
    return result;
}

/* swapon(2) with the priority bits left at 0: the kernel numbers swap areas in activation order. */
static int swap_on(const char *path)
{
    return swapon(path, 0);
}

static JSValue sys_swapon(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "swapon", swap_on);
}

static JSValue sys_swapoff(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "swapoff", swapoff);
}

/* BLKFLSBUF: the kernel writes out and then forgets the device's cached blocks, so the next reads come
 * from the disk itself. */
static int flush_block_device(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ioctl(fd, BLKFLSBUF, 0) < 0)
        return sys_close_keeping_errno(fd);
    close(fd);
    return 0;
}

static JSValue sys_flush_block_device(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    return call_with_path(ctx, argv[0], "flushBlockDevice", flush_block_device);
}

/* The two termios settings programs here need: echo, and line editing (canonical mode). Without line
 * editing a read returns as soon as one byte has arrived. */
static JSValue sys_set_terminal_mode(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)this_value, (void)argc;
    int fd;
    if (sys_arg_fd(ctx, argv[0], "setTerminalMode", &fd) < 0)
        return JS_EXCEPTION;
    struct termios mode;
    if (tcgetattr(fd, &mode) < 0)
        return sys_throw_errno(ctx, "tcgetattr", NULL, errno);
    mode.c_lflag = JS_ToBool(ctx, argv[1]) ? mode.c_lflag | ECHO : mode.c_lflag & ~(tcflag_t)ECHO;
    if (JS_ToBool(ctx, argv[2])) {
        mode.c_lflag |= ICANON;
    } else {
        mode.c_lflag &= ~(tcflag_t)ICANON;
        mode.c_cc[VMIN] = 1;
        mode.c_cc[VTIME] = 0;
    }
    if (tcsetattr(fd, TCSANOW, &mode) < 0)
        return sys_throw_errno(ctx, "tcsetattr", NULL, errno);
    return JS_UNDEFINED;
}

static JSValue sys_sync(JSContext *ctx, JSValueConst this_value, int argc, JSValueConst *argv)
{
    (void)ctx, (void)this_value, (void)argc, (void)argv;
    sync();
    return JS_UNDEFINED;
}

const JSCFunctionListEntry sys_fs_functions[] = {
    JS_CFUNC_DEF("open", 3, sys_open),
    JS_CFUNC_DEF("close", 1, sys_close),
    JS_CFUNC_DEF("read", 2, sys_read),
    JS_CFUNC_DEF("write", 2, sys_write),
    JS_CFUNC_DEF("lseek", 3, sys_lseek),
    JS_CFUNC_DEF("fsync", 1, sys_fsync),
    JS_CFUNC_DEF("ftruncate", 2, sys_ftruncate),
    JS_CFUNC_DEF("readFile", 1, sys_read_file),
    JS_CFUNC_DEF("writeFile", 3, sys_write_file),
    JS_CFUNC_DEF("stat", 1, sys_stat),
    JS_CFUNC_DEF("lstat", 1, sys_lstat),
    JS_CFUNC_DEF("fstat", 1, sys_fstat),
    JS_CFUNC_DEF("readdir", 1, sys_readdir),
    JS_CFUNC_DEF("mkdir", 2, sys_mkdir),
    JS_CFUNC_DEF("rmdir", 1, sys_rmdir),
    JS_CFUNC_DEF("unlink", 1, sys_unlink),
    JS_CFUNC_DEF("rename", 2, sys_rename),
    JS_CFUNC_DEF("symlink", 2, sys_symlink),
    JS_CFUNC_DEF("link", 2, sys_link),
    JS_CFUNC_DEF("readlink", 1, sys_readlink),
    JS_CFUNC_DEF("chdir", 1, sys_chdir),
    JS_CFUNC_DEF("getcwd", 0, sys_getcwd),
    JS_CFUNC_DEF("mknod", 4, sys_mknod),
    JS_CFUNC_DEF("mount", 5, sys_mount),
    JS_CFUNC_DEF("umount", 2, sys_umount),
    JS_CFUNC_DEF("sync", 0, sys_sync),
    JS_CFUNC_DEF("chmod", 2, sys_chmod),
    JS_CFUNC_DEF("statfs", 1, sys_statfs),
    JS_CFUNC_DEF("swapon", 1, sys_swapon),
    JS_CFUNC_DEF("swapoff", 1, sys_swapoff),
    JS_CFUNC_DEF("flushBlockDevice", 1, sys_flush_block_device),
    JS_CFUNC_DEF("setTerminalMode", 3, sys_set_terminal_mode),
    INT_CONSTANT(O_RDONLY),
    INT_CONSTANT(O_WRONLY),
    INT_CONSTANT(O_RDWR),
    INT_CONSTANT(O_CREAT),
    INT_CONSTANT(O_EXCL),
    INT_CONSTANT(O_TRUNC),
    INT_CONSTANT(O_APPEND),
    INT_CONSTANT(O_NONBLOCK),
    INT_CONSTANT(O_DIRECTORY),
    INT_CONSTANT(O_NOFOLLOW),
    INT_CONSTANT(O_NOCTTY),
    INT_CONSTANT(O_SYNC),
    INT_CONSTANT(SEEK_SET),
    INT_CONSTANT(SEEK_CUR),
    INT_CONSTANT(SEEK_END),
    INT_CONSTANT(S_IFMT),
    INT_CONSTANT(S_IFREG),
    INT_CONSTANT(S_IFDIR),
    INT_CONSTANT(S_IFLNK),
    INT_CONSTANT(S_IFCHR),
    INT_CONSTANT(S_IFBLK),
    INT_CONSTANT(S_IFIFO),
    INT_CONSTANT(S_IFSOCK),
    INT_CONSTANT(MS_RDONLY),
    INT_CONSTANT(MS_NOSUID),
    INT_CONSTANT(MS_NODEV),
    INT_CONSTANT(MS_NOEXEC),
    INT_CONSTANT(MS_SYNCHRONOUS),
    INT_CONSTANT(MS_REMOUNT),
    INT_CONSTANT(MS_NOATIME),
    INT_CONSTANT(MS_BIND),
    INT_CONSTANT(MS_MOVE),
    INT_CONSTANT(MS_REC),
    INT_CONSTANT(MS_PRIVATE),
    INT_CONSTANT(MNT_FORCE),
    INT_CONSTANT(MNT_DETACH),
};
const int sys_fs_function_count = SYS_COUNT_OF(sys_fs_functions);
