/*
 * PID 1 for guest/kernel/measure.ts: proves the kernel reached user space, then checks the pieces the
 * real smss needs from it. The first console line is the measurement point, so it is written before
 * anything else. Later lines are "check <name>=ok|<error>" results and "<name>=<value>" facts.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/serial.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void say(int fd, const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(fd, text, left);
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

/* Writes "<name>=<first lines of path, joined by '; '>" to the console, or "<name>=error". */
static void report_file_lines(const char *name, const char *path, int lines) {
    char text[512];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    say(1, name);
    say(1, "=");
    if (n <= 0) {
        say(1, "error\n");
        return;
    }
    text[n] = 0;
    char *line = text;
    for (int i = 0; i < lines && *line; i++) {
        char *newline = strchr(line, '\n');
        if (newline) *newline = 0;
        if (i > 0) say(1, "; ");
        say(1, line);
        if (!newline) break;
        line = newline + 1;
    }
    say(1, "\n");
}

/* A check the harness requires to pass: "check <name>=ok", or the error after the '='. */
static void say_result(const char *name, int error) {
    say(1, "check ");
    say(1, name);
    say(1, error ? "=" : "=ok\n");
    if (error) {
        say(1, strerror(error));
        say(1, "\n");
    }
}

/*
 * The kernel probes COM4 (0x2e8) with a loopback test that v86's UART does not emulate, so ttyS3 is left
 * without a UART type. Declaring it a 16550A by hand (what `setserial /dev/ttyS3 uart 16550A` does) makes
 * it usable.
 */
static void declare_com4(void) {
    struct serial_struct serial;
    int error = 0;
    int fd = open("/dev/ttyS3", O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || ioctl(fd, TIOCGSERIAL, &serial) != 0) {
        error = errno;
    } else if (serial.type == PORT_UNKNOWN) {
        serial.type = PORT_16550A;
        if (ioctl(fd, TIOCSSERIAL, &serial) != 0) error = errno;
    }
    if (fd >= 0) close(fd);
    say_result("declare-com4", error);
}

/* getrandom() blocks until the kernel's random pool is initialised; the guest's runtimes will call it. */
static void time_getrandom(void) {
    unsigned char bytes[16];
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    int error = getrandom(bytes, sizeof bytes, 0) == (ssize_t)sizeof bytes ? 0 : errno;
    clock_gettime(CLOCK_MONOTONIC, &after);
    if (error) {
        say_result("getrandom", error);
        return;
    }
    char line[64];
    long micros = (after.tv_sec - before.tv_sec) * 1000000L + (after.tv_nsec - before.tv_nsec) / 1000;
    snprintf(line, sizeof line, "getrandom-microseconds=%ld\n", micros);
    say(1, line);
}

/*
 * i386 glibc passes 32-bit time_t values to the kernel's old time syscalls whenever they fit; a kernel
 * without CONFIG_COMPAT_32BIT_TIME answers ENOSYS, which the real runtime hit first in nanosleep().
 */
static void check_time32_syscalls(void) {
    struct timespec pause_briefly = {0, 1000000};
    say_result("nanosleep", nanosleep(&pause_briefly, NULL) == 0 ? 0 : errno);

    int futex_word = 0;
    long waited = syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, &pause_briefly, NULL, 0);
    say_result("futex-wait-timeout", waited == -1 && errno == ETIMEDOUT ? 0 : waited == -1 ? errno : EPROTO);
}

/* Each extra UART gets a line naming itself, so the host can tell which v86 port carries which ttyS. */
static void greet_serial_port(const char *device, const char *greeting) {
    int error = 0;
    int fd = open(device, O_WRONLY | O_NOCTTY);
    if (fd < 0) {
        error = errno;
    } else {
        if (write(fd, greeting, strlen(greeting)) < 0) error = errno;
        close(fd);
    }
    say_result(device, error);
}

int main(void) {
    say(1, "smss86-measure-init: user space reached\n");

    /* An initramfs root gets no automatic devtmpfs mount; a disk root already has one (EBUSY is fine). */
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);

    declare_com4();
    greet_serial_port("/dev/ttyS1", "smss86-measure-init: hello on ttyS1\n");
    greet_serial_port("/dev/ttyS2", "smss86-measure-init: hello on ttyS2\n");
    greet_serial_port("/dev/ttyS3", "smss86-measure-init: hello on ttyS3\n");
    check_time32_syscalls();
    time_getrandom();
    report_file_lines("uptime", "/proc/uptime", 1);
    report_file_lines("meminfo", "/proc/meminfo", 3);
    say(1, "smss86-measure-init: done\n");

    for (;;) pause();
}
