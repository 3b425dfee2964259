// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * win32k.sys: the kernel half of the Win32 subsystem, for now its session table. On Windows, win32k and
 * the memory manager keep which session every process belongs to; smss creates a session, starts that
 * session's csrss and winlogon in it, and every process they start is born in the same session and stays
 * there. This module keeps that table for smss86 and makes it a fact of the kernel, not of a user-mode
 * process that could lose track: membership follows fork by itself and ends with the process.
 *
 * Device: /dev/win32k (misc character device, node made by devtmpfs, mode 0666 so that anyone can ask;
 * changes are checked per command). One command per write(2), ASCII words separated by spaces, an
 * optional final "\n", at most 63 bytes. A write returns its full length on success, or fails with:
 *
 *   create <session>        new empty session                   EEXIST it exists
 *   destroy <session>       removes an empty session            ENOENT unknown; EBUSY processes are in it
 *   attach <pid> <session>  puts the process (and every child   ENOENT unknown session; ESRCH no such
 *                           it forks from now on) into session  process or it has exited; EBUSY it is
 *                                                               already in a session (a process's session
 *                                                               is fixed for its life); EINVAL a kernel
 *                                                               thread, or a process with more than one
 *                                                               thread (its other threads would fork
 *                                                               children outside the session)
 *   process <pid>           asks for one process's session      ESRCH no such process or it has exited
 *   session <session>       asks for one session's processes    ENOENT unknown session
 *
 * create, destroy and attach change the table and need CAP_SYS_ADMIN (root) both in the writer and in
 * whoever opened the file, else EPERM: a descriptor opened by an unprivileged process and handed to a
 * privileged one (its stdout, say) must not become a way to change the table. Anything else is EINVAL
 * (unknown command, missing or extra words, a number that is not plain decimal or out of range; sessions
 * are 0..4294967295, pids as the kernel has them, in the namespace of the writer).
 *
 * read(2) returns a reply and then end of file; the read after that end of file starts the next reply, so
 * a reader can poll one descriptor without seeking (the device is a stream: no lseek, no pread). The reply
 * is the answer to the last question written on that descriptor ("process 45: session 1\n", "process 45:
 * none\n", or "session 1: 45 46 47\n"), else a snapshot of the whole table taken at that read: one line per
 * session in ascending order, its processes' pids ascending ("session 0: 1 17\nsession 1: 45 46 47\n";
 * an empty session is "session 2:\n"). A change written on the descriptor drops an unread answer.
 *
 * How membership follows processes. A session must be inherited at fork, fixed for the process's life,
 * kept by a child whose parent has exited (it is reparented to init, so a walk up the parent chain at
 * question time would lose it), and gone with the process (a reused pid must not inherit it). The
 * kernel offers modules a fork hook through tracepoints (sched_process_fork) or kprobes, but both need
 * configuration this kernel does not have: tracepoints come only with CONFIG_TRACING (ring buffer, event
 * tracing, tracefs), kprobes pull in KALLSYMS; see guest/kernel/config.fragment for what they cost.
 * Instead the session rides on something the kernel already copies at fork and destroys at exit: a perf
 * event. PERF_EVENTS is always built on x86. attach creates, on the process, a kernel perf event of this
 * module's own PMU ("win32k") with attr.inherit set and the session number in attr.config; perf itself
 * then gives every child forked from then on a copy of the event with the same attr (copy_process ->
 * perf_event_init_task), whatever happens to the parent afterwards, and removes a task's events when it
 * exits (do_exit -> perf_event_exit_task), before it is even reaped. A task's session is therefore
 * whatever event of this PMU is in its software-event context (task->perf_event_ctxp[perf_sw_context]),
 * read under RCU as perf's own side-band code reads it; no list of members is kept that could go stale,
 * and a task with a recycled pid simply has no such event. The events are created disabled, so they never
 * count and are never scheduled onto the PMU; what remains is perf's per-context-switch bookkeeping for
 * tasks that carry a context. The PMU refuses every event it did not create itself or that was not
 * inherited from one of those (perf_event_open(2) on it fails with EACCES).
 *
 * perf may swap two equivalent (cloned) contexts between a parent and a child at a context switch, so the
 * original event made by attach can end up in a descendant; that is harmless, since every event of one
 * lineage carries the same session. All events of a lineage are children of that original event, and
 * releasing it would take the session from the whole lineage; the module keeps each original ("root")
 * event until its holder has exited and no inherited copy remains, and releases such dead roots whenever
 * the table is used. destroy releases the roots of a session that has no live process left.
 *
 * The module has no exit function and cannot be unloaded, like win32k on Windows: a task's perf context
 * that one of its events created points at this module's PMU (perf re-points it at the built-in software
 * PMU the next time the task runs), and outlives the module's events.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#define W32K_MAX_LINE 63
#define W32K_MAX_WORDS 3

/* Results of w32k_process_session() that are not a session number. */
#define W32K_NO_SESSION (-1LL)
#define W32K_EXITED (-2LL)

struct w32k_session {
	struct list_head link; /* in w32k_sessions, ascending id */
	u32 id;
	struct list_head roots; /* struct w32k_root */
};

/* An event made by attach, the ancestor of every event that carries its session to descendants. */
struct w32k_root {
	struct list_head link;
	struct perf_event *event;
};

/* Serialises every command and table snapshot. The PMU callbacks never take it, so perf may be called
 * with it held. */
static DEFINE_MUTEX(w32k_table_lock);
static LIST_HEAD(w32k_sessions);
/* The task inside perf_event_create_kernel_counter() on behalf of attach, the only non-inherited event
 * the PMU accepts. */
static struct task_struct *w32k_creator;

static int w32k_event_init(struct perf_event *event);
static int w32k_event_add(struct perf_event *event, int flags)
{
	return 0;
}
static void w32k_event_nothing(struct perf_event *event, int flags)
{
}
static void w32k_event_read(struct perf_event *event)
{
}

static struct pmu w32k_pmu = {
	.module = THIS_MODULE,
	.task_ctx_nr = perf_sw_context,
	.capabilities = PERF_PMU_CAP_NO_INTERRUPT,
	.event_init = w32k_event_init,
	.add = w32k_event_add,
	.del = w32k_event_nothing,
	.start = w32k_event_nothing,
	.stop = w32k_event_nothing,
	.read = w32k_event_read,
};

static int w32k_event_init(struct perf_event *event)
{
	if (event->attr.type != w32k_pmu.type)
		return -ENOENT;
	/* An inherited event's parent is one this PMU accepted before: the fork of a session's process. */
	if (event->parent)
		return 0;
	return READ_ONCE(w32k_creator) == current ? 0 : -EACCES;
}

/* Under rcu_read_lock(). */
static bool w32k_thread_session(struct task_struct *thread, u32 *session)
{
	struct perf_event_context *ctx = rcu_dereference(thread->perf_event_ctxp[perf_sw_context]);
	struct perf_event *event;

	if (!ctx)
		return false;
	list_for_each_entry_rcu(event, &ctx->event_list, event_entry) {
		if (event->pmu == &w32k_pmu) {
			*session = (u32)event->attr.config;
			return true;
		}
	}
	return false;
}

/*
 * Under rcu_read_lock(): the session of the process led by @leader, W32K_NO_SESSION, or W32K_EXITED once
 * every thread has begun to exit (a process leaves the table when it exits, not when it is reaped). Any
 * live thread answers: they all carry the process's session, and the leader may have exited first.
 */
static s64 w32k_process_session(struct task_struct *leader)
{
	struct task_struct *thread;
	bool live = false;
	u32 session;

	for_each_thread(leader, thread) {
		if (READ_ONCE(thread->flags) & PF_EXITING)
			continue;
		live = true;
		if (w32k_thread_session(thread, &session))
			return session;
	}
	return live ? W32K_NO_SESSION : W32K_EXITED;
}

static struct w32k_session *w32k_find_session(u32 id)
{
	struct w32k_session *session;

	list_for_each_entry(session, &w32k_sessions, link)
		if (session->id == id)
			return session;
	return NULL;
}

static void w32k_release_root(struct w32k_root *root)
{
	perf_event_release_kernel(root->event);
	list_del(&root->link);
	kfree(root);
}

/*
 * Releases the roots whose holder has exited and that no inherited copy still refers to. Called with the
 * table lock held; a root in EXIT state is out of every context, so no fork can inherit from it any more.
 */
static void w32k_release_dead_roots(void)
{
	struct w32k_session *session;
	struct w32k_root *root, *next;
	bool unused;

	list_for_each_entry(session, &w32k_sessions, link) {
		list_for_each_entry_safe(root, next, &session->roots, link) {
			if (READ_ONCE(root->event->state) != PERF_EVENT_STATE_EXIT)
				continue;
			mutex_lock(&root->event->child_mutex);
			unused = list_empty(&root->event->child_list);
			mutex_unlock(&root->event->child_mutex);
			if (unused)
				w32k_release_root(root);
		}
	}
}

/* A process the writer names by pid, or NULL; the caller puts the task. */
static struct task_struct *w32k_get_process(pid_t nr)
{
	struct pid *pid = find_get_pid(nr);
	struct task_struct *task;

	if (!pid)
		return NULL;
	task = get_pid_task(pid, PIDTYPE_TGID);
	put_pid(pid);
	return task;
}

struct w32k_member {
	u32 session;
	pid_t pid;
};

static int w32k_member_order(const void *a, const void *b)
{
	const struct w32k_member *left = a, *right = b;

	if (left->session != right->session)
		return left->session < right->session ? -1 : 1;
	return left->pid < right->pid ? -1 : left->pid > right->pid;
}

/* Every live process that is in a session, sorted by session then pid; free with kvfree(). */
static int w32k_collect_members(struct w32k_member **out, size_t *count)
{
	struct pid_namespace *namespace = task_active_pid_ns(current);
	size_t capacity = 64;

	for (;;) {
		struct w32k_member *members = kvmalloc_array(capacity, sizeof(*members), GFP_KERNEL);
		struct task_struct *process;
		bool full = false;
		size_t used = 0;

		if (!members)
			return -ENOMEM;
		rcu_read_lock();
		for_each_process(process) {
			s64 session = w32k_process_session(process);
			pid_t pid = task_tgid_nr_ns(process, namespace);

			/* pid 0: the process is outside the reader's pid namespace. */
			if (session < 0 || pid == 0)
				continue;
			if (used == capacity) {
				full = true;
				break;
			}
			members[used].session = (u32)session;
			members[used].pid = pid;
			used++;
		}
		rcu_read_unlock();
		if (!full) {
			sort(members, used, sizeof(*members), w32k_member_order, NULL);
			*out = members;
			*count = used;
			return 0;
		}
		kvfree(members);
		capacity *= 2;
	}
}

/* Longest "session N:" and " PID" texts. */
#define W32K_SESSION_TEXT sizeof("session 4294967295:\n")
#define W32K_PID_TEXT sizeof(" -2147483648")

/*
 * Formats the lines of one session (@only) or of all sessions into a new buffer (kvfree()). Called with
 * the table lock held, so that the sessions listed are those that exist.
 */
static int w32k_format_sessions(struct w32k_session *only, char **out, size_t *length)
{
	struct w32k_member *members;
	struct w32k_session *session;
	size_t count, sessions = 0, size, used = 0, index = 0;
	char *text;
	int error;

	error = w32k_collect_members(&members, &count);
	if (error)
		return error;
	list_for_each_entry(session, &w32k_sessions, link)
		sessions++;
	size = sessions * W32K_SESSION_TEXT + count * W32K_PID_TEXT + 1;
	text = kvmalloc(size, GFP_KERNEL);
	if (!text) {
		kvfree(members);
		return -ENOMEM;
	}
	list_for_each_entry(session, &w32k_sessions, link) {
		/* Members of a session destroyed and created again since they were collected cannot exist:
		 * destroy needs the session empty, and both run under the table lock. */
		while (index < count && members[index].session < session->id)
			index++;
		if (only && session != only)
			continue;
		used += scnprintf(text + used, size - used, "session %u:", session->id);
		for (; index < count && members[index].session == session->id; index++)
			used += scnprintf(text + used, size - used, " %d", members[index].pid);
		used += scnprintf(text + used, size - used, "\n");
	}
	kvfree(members);
	*out = text;
	*length = used;
	return 0;
}

/* Per open file: the reply that reads return, and how much of it has been read. */
struct w32k_reader {
	struct mutex lock;
	char *reply;
	size_t length;
	size_t position;
};

static void w32k_set_reply(struct w32k_reader *reader, char *reply, size_t length)
{
	mutex_lock(&reader->lock);
	kvfree(reader->reply);
	reader->reply = reply;
	reader->length = length;
	reader->position = 0;
	mutex_unlock(&reader->lock);
}

static int w32k_parse_session(const char *word, u32 *id)
{
	/* kstrtou32 also takes "+1" and "0x1"; the protocol's numbers are plain decimal. */
	if (!isdigit(word[0]) || (word[0] == '0' && word[1]) || kstrtou32(word, 10, id))
		return -EINVAL;
	return 0;
}

static int w32k_parse_pid(const char *word, pid_t *pid)
{
	u32 value;
	int error = w32k_parse_session(word, &value);

	if (error)
		return error;
	if (value == 0 || value > PID_MAX_LIMIT)
		return -EINVAL;
	*pid = value;
	return 0;
}

static int w32k_create(u32 id)
{
	struct w32k_session *session, *created, *before = NULL;

	if (w32k_find_session(id))
		return -EEXIST;
	created = kzalloc(sizeof(*created), GFP_KERNEL);
	if (!created)
		return -ENOMEM;
	created->id = id;
	INIT_LIST_HEAD(&created->roots);
	list_for_each_entry(session, &w32k_sessions, link) {
		if (session->id > id) {
			before = session;
			break;
		}
	}
	list_add_tail(&created->link, before ? &before->link : &w32k_sessions);
	return 0;
}

static int w32k_destroy(u32 id)
{
	struct w32k_session *session = w32k_find_session(id);
	struct w32k_root *root, *next;
	struct task_struct *process;
	bool busy = false;

	if (!session)
		return -ENOENT;
	/* Only a live process of the session can fork into it, so once none is left none can appear. */
	rcu_read_lock();
	for_each_process(process) {
		if (w32k_process_session(process) == id) {
			busy = true;
			break;
		}
	}
	rcu_read_unlock();
	if (busy)
		return -EBUSY;
	/* Roots whose holder is still on its way out (or whose last copy is); releasing them is what ends
	 * the lineage for good, so the number can be created again without a stale event claiming it. */
	list_for_each_entry_safe(root, next, &session->roots, link)
		w32k_release_root(root);
	list_del(&session->link);
	kfree(session);
	return 0;
}

static int w32k_attach(pid_t pid, u32 id)
{
	struct w32k_session *session = w32k_find_session(id);
	struct perf_event_attr attr = {
		.type = w32k_pmu.type,
		.size = sizeof(attr),
		.config = id,
		/* Never counts and is never scheduled onto the PMU: it exists to be inherited. */
		.disabled = 1,
		.inherit = 1,
	};
	struct task_struct *process;
	struct perf_event *event;
	struct w32k_root *root;
	s64 current_session;
	int error = 0;

	if (!session)
		return -ENOENT;
	process = w32k_get_process(pid);
	if (!process)
		return -ESRCH;
	if (process->flags & PF_KTHREAD) {
		error = -EINVAL;
		goto out;
	}
	rcu_read_lock();
	current_session = w32k_process_session(process);
	rcu_read_unlock();
	if (current_session == W32K_EXITED)
		error = -ESRCH;
	else if (current_session != W32K_NO_SESSION)
		error = -EBUSY;
	if (error)
		goto out;
	root = kzalloc(sizeof(*root), GFP_KERNEL);
	if (!root) {
		error = -ENOMEM;
		goto out;
	}
	WRITE_ONCE(w32k_creator, current);
	event = perf_event_create_kernel_counter(&attr, -1, process, NULL, NULL);
	WRITE_ONCE(w32k_creator, NULL);
	if (IS_ERR(event)) {
		kfree(root);
		error = PTR_ERR(event);
		goto out;
	}
	/* Counted after the event exists: a thread started from now on inherits it, one started before
	 * does not, and would fork children outside the session. */
	if (get_nr_threads(process) > 1) {
		perf_event_release_kernel(event);
		kfree(root);
		error = -EINVAL;
		goto out;
	}
	root->event = event;
	list_add_tail(&root->link, &session->roots);
out:
	put_task_struct(process);
	return error;
}

static int w32k_ask_process(pid_t pid, char **reply, size_t *length)
{
	struct task_struct *process = w32k_get_process(pid);
	s64 session;

	if (!process)
		return -ESRCH;
	rcu_read_lock();
	session = w32k_process_session(process);
	rcu_read_unlock();
	put_task_struct(process);
	if (session == W32K_EXITED)
		return -ESRCH;
	*reply = kvmalloc(64, GFP_KERNEL);
	if (!*reply)
		return -ENOMEM;
	if (session == W32K_NO_SESSION)
		*length = scnprintf(*reply, 64, "process %d: none\n", pid);
	else
		*length = scnprintf(*reply, 64, "process %d: session %u\n", pid, (u32)session);
	return 0;
}

static int w32k_ask_session(u32 id, char **reply, size_t *length)
{
	struct w32k_session *session = w32k_find_session(id);

	if (!session)
		return -ENOENT;
	return w32k_format_sessions(session, reply, length);
}

static bool w32k_may_change(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN) && capable(CAP_SYS_ADMIN);
}

/*
 * Runs one command, words[0] its name, with the table lock held. A question leaves its answer in *reply; a
 * change leaves NULL there, which drops an unread answer.
 */
static int w32k_command(struct file *file, char **words, int count, char **reply, size_t *length)
{
	const char *name = words[0];
	pid_t pid;
	u32 id;

	if (!strcmp(name, "process") && count == 2)
		return w32k_parse_pid(words[1], &pid) ?: w32k_ask_process(pid, reply, length);
	if (!strcmp(name, "session") && count == 2)
		return w32k_parse_session(words[1], &id) ?: w32k_ask_session(id, reply, length);

	if (!((!strcmp(name, "create") || !strcmp(name, "destroy")) && count == 2) &&
	    !(!strcmp(name, "attach") && count == 3))
		return -EINVAL;
	if (!w32k_may_change(file))
		return -EPERM;
	if (!strcmp(name, "create"))
		return w32k_parse_session(words[1], &id) ?: w32k_create(id);
	if (!strcmp(name, "destroy"))
		return w32k_parse_session(words[1], &id) ?: w32k_destroy(id);
	return w32k_parse_pid(words[1], &pid) ?: w32k_parse_session(words[2], &id) ?: w32k_attach(pid, id);
}

static ssize_t w32k_write(struct file *file, const char __user *buffer, size_t size, loff_t *position)
{
	char line[W32K_MAX_LINE + 1], *cursor = line, *words[W32K_MAX_WORDS], *word, *reply = NULL;
	size_t length = 0, text_length = size;
	int count = 0, error;

	if (size == 0 || size > W32K_MAX_LINE)
		return -EINVAL;
	if (copy_from_user(line, buffer, size))
		return -EFAULT;
	line[size] = '\0';
	if (line[size - 1] == '\n')
		line[--text_length] = '\0';
	/* One command per write: an inner newline or NUL would otherwise hide a second one. */
	if (strlen(line) != text_length || strchr(line, '\n'))
		return -EINVAL;
	while ((word = strsep(&cursor, " ")) != NULL) {
		if (!*word)
			continue;
		if (count == W32K_MAX_WORDS)
			return -EINVAL;
		words[count++] = word;
	}
	if (count == 0)
		return -EINVAL;

	mutex_lock(&w32k_table_lock);
	w32k_release_dead_roots();
	error = w32k_command(file, words, count, &reply, &length);
	mutex_unlock(&w32k_table_lock);
	if (error)
		return error;
	/* Set after the table lock is dropped: read takes the reader's lock first, then the table's. */
	w32k_set_reply(file->private_data, reply, length);
	return size;
}

static ssize_t w32k_read(struct file *file, char __user *buffer, size_t size, loff_t *position)
{
	struct w32k_reader *reader = file->private_data;
	ssize_t result = 0;
	size_t available;

	mutex_lock(&reader->lock);
	if (!reader->reply) {
		mutex_lock(&w32k_table_lock);
		w32k_release_dead_roots();
		result = w32k_format_sessions(NULL, &reader->reply, &reader->length);
		mutex_unlock(&w32k_table_lock);
		reader->position = 0;
		if (result)
			goto out;
	}
	available = reader->length - reader->position;
	if (available == 0) {
		/* End of this reply; the next read starts the next one. */
		kvfree(reader->reply);
		reader->reply = NULL;
		goto out;
	}
	result = min(size, available);
	if (copy_to_user(buffer, reader->reply + reader->position, result)) {
		result = -EFAULT;
		goto out;
	}
	reader->position += result;
out:
	mutex_unlock(&reader->lock);
	return result;
}

static int w32k_open(struct inode *inode, struct file *file)
{
	struct w32k_reader *reader = kzalloc(sizeof(*reader), GFP_KERNEL);

	if (!reader)
		return -ENOMEM;
	mutex_init(&reader->lock);
	file->private_data = reader;
	return stream_open(inode, file);
}

static int w32k_release(struct inode *inode, struct file *file)
{
	struct w32k_reader *reader = file->private_data;

	kvfree(reader->reply);
	kfree(reader);
	return 0;
}

static const struct file_operations w32k_fops = {
	.owner = THIS_MODULE,
	.open = w32k_open,
	.release = w32k_release,
	.read = w32k_read,
	.write = w32k_write,
	.llseek = no_llseek,
};

static struct miscdevice w32k_device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "win32k",
	.fops = &w32k_fops,
	.mode = 0666,
};

static int __init w32k_init(void)
{
	int error = perf_pmu_register(&w32k_pmu, "win32k", -1);

	if (error)
		return error;
	error = misc_register(&w32k_device);
	if (error)
		perf_pmu_unregister(&w32k_pmu);
	return error;
}

module_init(w32k_init);
MODULE_DESCRIPTION("smss86 win32k: Win32 session table");
MODULE_LICENSE("Dual MIT/GPL");
