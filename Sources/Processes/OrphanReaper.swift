import CSystemShims
import Glibc
import Locking

/// Reaps processes that were not ours to begin with: orphans re-parented to plugboard because
/// it is PID 1 in a container or a child subreaper (a plugin that forked and exited, say).
/// Children started through `ChildProcess` are left to their own reaper threads.
public enum OrphanReaper {
    /// Pids of live `ChildProcess` children.
    static let ownChildren = Locked<Set<pid_t>>([])

    /// Makes plugboard the reaper of its descendants' orphans (PID 1 already is).
    /// Returns false when the kernel refuses.
    public static func adoptOrphans() -> Bool {
        getpid() == 1 || pb_set_child_subreaper(1) == 0
    }

    /// Reaps every exited orphan without blocking; returns how many.
    @discardableResult
    public static func reapExitedOrphans() -> Int {
        var reaped = 0
        while true {
            var info = siginfo_t()
            // Peek (WNOWAIT) so an exited child of our own stays for its reaper thread.
            guard waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return reaped }
            let pid = pb_siginfo_pid(&info)
            guard pid > 0 else { return reaped }
            if ownChildren.withLock({ $0.contains(pid) }) { return reaped }  // its thread reaps it
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return reaped }
            reaped += 1
        }
    }
}
