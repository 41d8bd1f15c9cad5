#define _GNU_SOURCE
#include "CSystemShims.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

extern char **environ;

int pb_thread_sigmask(int how, const sigset_t *set, sigset_t *old) {
    return pthread_sigmask(how, set, old);
}

int pb_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

static int pb_redirect(posix_spawn_file_actions_t *actions, int fd, int target, int flags) {
    if (fd == PB_SPAWN_INHERIT) return 0;
    if (fd == PB_SPAWN_DEVNULL) return posix_spawn_file_actions_addopen(actions, target, "/dev/null", flags, 0);
    return posix_spawn_file_actions_adddup2(actions, fd, target);
}

int pb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             const char *working_directory, int stdin_fd, int stdout_fd, int stderr_fd,
             const int *passed, int passed_count) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return result;
    }

    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    // sigfillset leaves out glibc's internal signals (SIGCANCEL and SIGSETXID, 32 and 33),
    // and glibc's spawn sets them to SIG_IGN in the child unless they are in the
    // "set to default" set; the ignore would then survive exec. Add them bit by bit:
    // sigaddset refuses them. The child blocks every signal until just before exec, and
    // nothing sends these to a process that is not a glibc thread of ours.
    for (int sig = 32; sig < SIGRTMIN; sig++)
        all.__val[(sig - 1) / (8 * sizeof all.__val[0])] |= 1UL << ((sig - 1) % (8 * sizeof all.__val[0]));
    if (result == 0) result = pb_redirect(&actions, stdin_fd, 0, O_RDONLY);
    if (result == 0) result = pb_redirect(&actions, stdout_fd, 1, O_WRONLY);
    if (result == 0) result = pb_redirect(&actions, stderr_fd, 2, O_WRONLY);
    if (result == 0 && working_directory != NULL)
        result = posix_spawn_file_actions_addchdir_np(&actions, working_directory);
    // The caller has numbered every passed descriptor above 2 + passed_count, so no dup2 here
    // overwrites one that a later dup2 reads.
    for (int index = 0; result == 0 && index < passed_count; index++)
        result = posix_spawn_file_actions_adddup2(&actions, passed[index], 3 + index);
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, 3 + passed_count);
    if (result == 0) result = posix_spawnattr_setflags(&attributes,
        POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &empty);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &all);
    if (result == 0) result = posix_spawnattr_setpgroup(&attributes, 0);
    if (result == 0) result = posix_spawn(pid, path, &actions, &attributes, argv, envp);

    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return result;
}

int pb_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

int pb_wait_exited_no_reap(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
}

int pb_set_child_subreaper(int on) {
    return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)(on ? 1 : 0), 0UL, 0UL, 0UL);
}

int pb_signalfd(const sigset_t *set) {
    return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int pb_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t count = read(fd, &info, sizeof info);
    if (count == (ssize_t)sizeof info) return (int)info.ssi_signo;
    if (count < 0 && errno == EAGAIN) return 0;
    if (count >= 0) errno = EIO;
    return -1;
}

// Indexed by signal number; read only by the async-signal-safe handler below.
static volatile sig_atomic_t pb_forward_fds[NSIG];

static void pb_forwarding_handler(int sig) {
    int saved = errno;
    if (sig > 0 && sig < NSIG) {
        int fd = (int)pb_forward_fds[sig];
        if (fd >= 0) {
            unsigned char byte = (unsigned char)sig;
            (void)!write(fd, &byte, 1);
        }
    }
    errno = saved;
}

int pb_install_forwarding_handler(int sig, int forward_fd) {
    if (sig <= 0 || sig >= NSIG) { errno = EINVAL; return -1; }
    pb_forward_fds[sig] = forward_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = pb_forwarding_handler;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    return sigaction(sig, &action, NULL);
}

int pb_remove_forwarding_handler(int sig) {
    if (sig <= 0 || sig >= NSIG) { errno = EINVAL; return -1; }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    int result = sigaction(sig, &action, NULL);
    pb_forward_fds[sig] = -1;
    return result;
}

char **pb_environ(void) { return environ; }

const void *pb_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

int pb_malloc_keep_freed(size_t trim_threshold, size_t mmap_threshold) {
    return mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1
        && mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1;
}
