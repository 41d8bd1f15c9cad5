#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H

// What Glibc's Swift overlay does not expose, or exposes awkwardly: wait-status
// macros, posix_spawn with GNU extensions, pidfd, signalfd, prctl. Functions that
// need _GNU_SOURCE declarations live in CSystemShims.c so this header does not
// depend on how the system headers were configured when the Glibc module was built.

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>    // for IO's event loop
#include <sys/eventfd.h>  // for IO's event loop
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// MARK: Wait status

static inline int pb_wifexited(int status) { return WIFEXITED(status); }
static inline int pb_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int pb_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int pb_wtermsig(int status) { return WTERMSIG(status); }

// MARK: errno

static inline int pb_errno(void) { return errno; }
static inline void pb_set_errno(int value) { errno = value; }

// MARK: Signal sets

static inline int pb_sigemptyset(sigset_t *set) { return sigemptyset(set); }
static inline int pb_sigfillset(sigset_t *set) { return sigfillset(set); }
static inline int pb_sigaddset(sigset_t *set, int sig) { return sigaddset(set, sig); }
static inline int pb_sigismember(const sigset_t *set, int sig) { return sigismember(set, sig); }
static inline int pb_sigrtmin(void) { return SIGRTMIN; }
static inline int pb_sigrtmax(void) { return SIGRTMAX; }

/// Returns 0 or an errno value (pthread_sigmask does not set errno).
int pb_thread_sigmask(int how, const sigset_t *set, sigset_t *old);

// MARK: Descriptors

/// pipe2(fds, O_CLOEXEC).
int pb_pipe_cloexec(int fds[2]);

// MARK: Spawning

/// How a child's standard descriptor is set up: >= 0 means dup2 that descriptor.
#define PB_SPAWN_INHERIT (-1)
#define PB_SPAWN_DEVNULL (-2)

/// posix_spawn with: stdin/stdout/stderr from the three arguments (see above),
/// `passed[i]` as descriptor 3 + i (each must be numbered above 2 + passed_count), every
/// other descriptor closed
/// (posix_spawn_file_actions_addclosefrom_np, glibc 2.34+),
/// an optional working directory (NULL: the parent's), an empty signal mask, every
/// signal at its default disposition, and a new process group led by the child.
/// Returns 0 or an errno value (exec and chdir failures included: glibc reports them).
int pb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             const char *working_directory, int stdin_fd, int stdout_fd, int stderr_fd,
             const int *passed, int passed_count);

// MARK: Process descriptors, reaping, subreaper

/// pidfd_open(2) through syscall(2); -1 and errno on failure.
int pb_pidfd_open(pid_t pid, unsigned int flags);

/// Waits until `pid` has exited without reaping it (waitid WEXITED | WNOWAIT).
/// Returns 0 or -1 and errno.
int pb_wait_exited_no_reap(pid_t pid);

/// The pid a waitid(2) result names (si_pid sits in a union Swift cannot reach).
static inline pid_t pb_siginfo_pid(const siginfo_t *info) { return info->si_pid; }

/// prctl(PR_SET_CHILD_SUBREAPER, on).
int pb_set_child_subreaper(int on);

// MARK: Signal delivery

/// signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK).
int pb_signalfd(const sigset_t *set);

/// Reads one signalfd_siginfo; returns the signal number, 0 if none is pending,
/// or -1 and errno.
int pb_signalfd_read(int fd);

/// Installs a handler for `sig` that writes the signal number as one byte to
/// `forward_fd` (which should be non-blocking). Used for threads that did not
/// block the signal. Returns 0 or -1 and errno.
int pb_install_forwarding_handler(int sig, int forward_fd);

/// Restores `sig` to the default disposition and forgets its forwarding descriptor.
int pb_remove_forwarding_handler(int sig);

// MARK: Environment

/// The process environment (`environ`).
char **pb_environ(void);

// MARK: Byte search

/// memmem(3): whether and where `needle` occurs in `haystack`.
const void *pb_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

// MARK: Allocator

/// mallopt(3): glibc keeps up to `trim_threshold` bytes of freed heap instead of returning
/// them, and serves allocations below `mmap_threshold` from the heap. Returns 1 when both
/// were accepted.
int pb_malloc_keep_freed(size_t trim_threshold, size_t mmap_threshold);

#endif
