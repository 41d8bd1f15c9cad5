import Glibc
import Processes
import Testing

extension ProcessBehaviour {
    @Suite("Spawning a child")
    struct Spawning {
        @Test("a child's stdout and stderr arrive on separate pipes and its exit status is reported")
        func pipesAndExitStatus() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "echo hi; echo err >&2; exit 3"],
                standardError: .pipe))
            defer { closePipes(child) }
            #expect(try readAll(child.standardOutput!) == "hi\n")
            #expect(try readAll(child.standardError!) == "err\n")
            #expect(child.waitForExit(timeout: .seconds(10)) == .exited(3))
            #expect(child.exitStatus == .exited(3))
        }

        @Test("a bare command name is found through the PATH of the child's environment")
        func pathLookup() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "sh", arguments: ["-c", "echo $0"],
                environment: ["PATH": "/nonexistent:/bin:/usr/bin"], standardInput: .discard))
            defer { closePipes(child) }
            #expect(child.executablePath == "/bin/sh")
            #expect(try readAll(child.standardOutput!) == "sh\n")
            #expect(child.waitForExit() == .exited(0))
        }

        @Test("the child runs in the configured working directory with exactly the configured environment")
        func workingDirectoryAndEnvironment() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "pwd; env | sort"],
                environment: ["PLUGBOARD_TEST": "yes"], workingDirectory: "/tmp"))
            defer { closePipes(child) }
            let lines = try readAll(child.standardOutput!).split(separator: "\n")
            #expect(lines.first == "/tmp")
            #expect(lines.contains("PLUGBOARD_TEST=yes"))
            #expect(!lines.contains { $0.hasPrefix("HOME=") })
            #expect(child.waitForExit() == .exited(0))
        }

        @Test("a command that is not on PATH fails with a message naming it and the PATH searched")
        func commandNotFound() {
            #expect {
                _ = try ChildProcess.spawn(.init(
                    executable: "plugboard-no-such-command", environment: ["PATH": "/usr/bin:/bin"]))
            } throws: { error in
                guard let error = error as? SpawnError else { return false }
                return error.reason == .commandNotFound(searchPath: "/usr/bin:/bin")
                    && error.description
                        == "cannot start \"plugboard-no-such-command\": command not found in PATH (/usr/bin:/bin)"
            }
        }

        @Test("a missing working directory is reported as such, naming the directory")
        func badWorkingDirectory() {
            #expect {
                _ = try ChildProcess.spawn(.init(executable: "/bin/true", workingDirectory: "/plugboard/missing"))
            } throws: { error in
                guard let error = error as? SpawnError else { return false }
                return error.reason == .badWorkingDirectory(errno: ENOENT)
                    && error.description.contains("/plugboard/missing")
                    && error.description.contains("No such file or directory (ENOENT)")
            }
        }

        @Test("a file without execute permission is reported with EACCES")
        func notExecutable() throws {
            let path = "/tmp/plugboard-not-executable-\(getpid())"
            let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            FileDescriptor(rawValue: fd).close()
            defer { unlink(path) }
            #expect {
                _ = try ChildProcess.spawn(.init(executable: path))
            } throws: { error in
                (error as? SpawnError)?.reason == .cannotExecute(path: path, errno: EACCES)
            }
        }

        @Test("onExit handlers run once, and immediately when the child has already exited")
        func onExitHandlers() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "exit 7"],
                standardInput: .discard, standardOutput: .discard))
            #expect(child.waitForExit(timeout: .seconds(10)) == .exited(7))
            var seen: [ChildProcess.ExitStatus] = []
            child.onExit { _ in }
            withUnsafeMutablePointer(to: &seen) { pointer in
                nonisolated(unsafe) let pointer = pointer  // the handler runs synchronously here
                child.onExit { pointer.pointee.append($0) }
            }
            #expect(seen == [.exited(7)])
        }
    }

    @Suite("A child's starting state")
    struct StartingState {
        @Test("a child starts with an empty signal mask and default dispositions even when the parent blocks and ignores signals")
        func cleanSignalState() throws {
            var blocked = sigset_t(), previous = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGTERM)
            sigaddset(&blocked, SIGUSR2)
            #expect(pthread_sigmask(SIG_BLOCK, &blocked, &previous) == 0)
            let previousUSR2 = Glibc.signal(SIGUSR2, SIG_IGN)
            defer {
                _ = Glibc.signal(SIGUSR2, previousUSR2)
                _ = pthread_sigmask(SIG_SETMASK, &previous, nil)
            }

            let (output, status) = try shell("grep Sig /proc/self/status")
            #expect(status == .exited(0))
            #expect(output.contains("SigBlk:\t0000000000000000"))
            #expect(output.contains("SigIgn:\t0000000000000000"))
        }

        @Test("a child inherits no descriptors beyond 0, 1 and 2, even ones not marked close-on-exec")
        func noInheritedDescriptors() throws {
            let leaky = try FileDescriptor.pipe()
            try leaky.read.setCloseOnExec(false)
            try leaky.write.setCloseOnExec(false)
            defer { leaky.read.close(); leaky.write.close() }

            // `ls /proc/self/fd` would list ls's own directory descriptor; list the shell's.
            let (output, status) = try shell("ls /proc/$$/fd")
            #expect(status == .exited(0))
            #expect(output.split(separator: "\n") == ["0", "1", "2"])
        }

        @Test("passed descriptors become the child's 3, 4, … in the order given, and nothing above them is inherited")
        func passedDescriptors() throws {
            let first = try FileDescriptor.pipe()
            let second = try FileDescriptor.pipe()
            defer { first.read.close(); second.read.close() }
            _ = Glibc.write(first.write.rawValue, "one", 3)
            _ = Glibc.write(second.write.rawValue, "two", 3)
            first.write.close()
            second.write.close()
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "cat <&3; echo; cat <&4; echo; ls /proc/$$/fd"], standardInput: .discard,
                passedDescriptors: [second.read, first.read]))
            defer { closePipes(child) }
            #expect(try readAll(child.standardOutput!).split(separator: "\n") == ["two", "one", "0", "1", "2", "3", "4"])
            #expect(child.waitForExit(timeout: .seconds(10)) == .exited(0))
        }

        @Test("a passed descriptor numbered below its target (0, here) still arrives where it is asked for")
        func passedLowDescriptor() throws {
            let pipe = try FileDescriptor.pipe()
            defer { pipe.read.close() }
            _ = Glibc.write(pipe.write.rawValue, "piped", 5)
            pipe.write.close()
            // Descriptor 0 of this process as the child's 4, the pipe as its 3: the first must be
            // moved out of the way of the second's dup2.
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "cat <&3; test -e /proc/$$/fd/4 && echo ' and 4'"], standardInput: .discard,
                passedDescriptors: [pipe.read, FileDescriptor(rawValue: 0)]))
            defer { closePipes(child) }
            #expect(try readAll(child.standardOutput!) == "piped and 4\n")
            #expect(child.waitForExit(timeout: .seconds(10)) == .exited(0))
        }

        @Test("a child leads its own process group")
        func ownProcessGroup() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "ps -o pgid= -p $$ 2>/dev/null || cut -d' ' -f5 /proc/$$/stat"],
                standardInput: .discard))
            defer { closePipes(child) }
            let output = try readAll(child.standardOutput!).filter { !$0.isWhitespace }
            #expect(output == String(child.pid))
            child.waitForExit()
        }

        @Test("the parent's ends of the pipes are close-on-exec")
        func parentEndsAreCloseOnExec() throws {
            let child = try ChildProcess.spawn(.init(executable: "/bin/cat", standardError: .pipe))
            defer { child.standardOutput!.close(); child.standardError!.close() }
            for descriptor in [child.standardInput!, child.standardOutput!, child.standardError!] {
                #expect(fcntl(descriptor.rawValue, F_GETFD) & FD_CLOEXEC != 0)
            }
            child.standardInput!.close()
            #expect(child.waitForExit(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Suite("Stopping a child")
    struct Stopping {
        @Test("terminate ends a cooperative child with SIGTERM")
        func terminateWithSIGTERM() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sleep", arguments: ["30"], standardInput: .discard, standardOutput: .discard))
            #expect(child.exitStatus == nil)
            #expect(child.terminate(gracePeriod: .seconds(5)) == .signaled(SIGTERM))
        }

        @Test("terminate escalates to SIGKILL for a child that ignores SIGTERM, within the grace period plus a little")
        func terminateEscalates() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "trap '' TERM; echo ready; sleep 30"]))
            defer { closePipes(child) }
            #expect(try readLine(child.standardOutput!) == "ready")

            let clock = ContinuousClock()
            let started = clock.now
            let status = child.terminate(gracePeriod: .milliseconds(300))
            let elapsed = clock.now - started
            #expect(status == .signaled(SIGKILL))
            #expect(elapsed >= .milliseconds(300))
            #expect(elapsed < .milliseconds(1800))
        }

        @Test("terminating a child kills its whole process group, grandchildren included")
        func killsProcessGroup() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sh", arguments: ["-c", "sleep 30 & echo $!; wait"]))
            defer { closePipes(child) }
            let grandchild = try #require(Int32(try readLine(child.standardOutput!)))
            #expect(!processIsDead(grandchild))

            #expect(child.terminate(gracePeriod: .seconds(5)) == .signaled(SIGTERM))
            #expect(eventually { processIsDead(grandchild) })
        }

        @Test("signal after the child has been reaped does nothing")
        func signalAfterExit() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/true", standardInput: .discard, standardOutput: .discard))
            #expect(child.waitForExit() == .exited(0))
            child.signal(SIGKILL)
            #expect(child.terminate(gracePeriod: .zero) == .exited(0))
        }

        @Test("waitForExit returns nil when the timeout passes first")
        func waitTimesOut() throws {
            let child = try ChildProcess.spawn(.init(
                executable: "/bin/sleep", arguments: ["30"], standardInput: .discard, standardOutput: .discard))
            #expect(child.waitForExit(timeout: .milliseconds(50)) == nil)
            #expect(child.terminate(gracePeriod: .seconds(5)) == .signaled(SIGTERM))
        }
    }

    @Suite("Reaping and resources")
    struct Reaping {
        @Test("every child is reaped: none is left a zombie after many spawns")
        func noZombies() throws {
            var pids: [Int32] = []
            for _ in 0..<50 {
                let child = try ChildProcess.spawn(.init(
                    executable: "/bin/true", standardInput: .discard, standardOutput: .discard))
                pids.append(child.pid)
                #expect(child.waitForExit(timeout: .seconds(10)) == .exited(0))
            }
            for pid in pids {
                var status: Int32 = 0
                // Still our child (zombie or not) would return 0 or pid; reaped means ECHILD.
                #expect(waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD)
            }
        }

        @Test("200 spawn and terminate cycles leak no descriptors")
        func noDescriptorLeak() throws {
            let before = DescriptorCensus.openDescriptors()
            for _ in 0..<200 {
                let child = try ChildProcess.spawn(.init(
                    executable: "/bin/sleep", arguments: ["30"], standardError: .pipe))
                child.terminate(gracePeriod: .seconds(5))
                closePipes(child)
            }
            #expect(DescriptorCensus.openDescriptors() == before)
        }
    }
}
