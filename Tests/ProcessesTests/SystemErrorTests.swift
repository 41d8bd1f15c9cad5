import Glibc
import Processes
import Testing

extension ProcessBehaviour {
    @Suite("System errors and descriptors")
    struct SystemErrors {
        @Test("a write to a pipe nobody reads fails with EPIPE, described with its context")
        func brokenPipe() throws {
            _ = Glibc.signal(SIGPIPE, SIG_IGN)
            let pipe = try FileDescriptor.pipe()
            pipe.read.close()
            defer { pipe.write.close() }
            #expect {
                try pipe.write.writeAll(Array("hello".utf8))
            } throws: { error in
                guard let error = error as? SystemError else { return false }
                return error.errno == EPIPE && error.call == "write"
                    && error.withContext("write to upstream stdin").description
                        == "write to upstream stdin: Broken pipe (EPIPE)"
            }
        }

        @Test("reading an empty non-blocking pipe throws EAGAIN instead of blocking")
        func nonBlockingRead() throws {
            let pipe = try FileDescriptor.pipe()
            defer { pipe.read.close(); pipe.write.close() }
            try pipe.read.setNonBlocking(true)
            var buffer = [UInt8](repeating: 0, count: 8)
            #expect(throws: SystemError(call: "read", errno: EAGAIN)) {
                _ = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in try pipe.read.read(into: raw) }
            }
            try pipe.write.writeAll(Array("ok".utf8))
            let count = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in try pipe.read.read(into: raw) }
            #expect(Array(buffer.prefix(count)) == Array("ok".utf8))
        }

        @Test("the descriptor census sees a new pipe and its closing")
        func census() throws {
            let before = DescriptorCensus.openDescriptors()
            let pipe = try FileDescriptor.pipe()
            let during = DescriptorCensus.openDescriptors()
            #expect(during.contains(pipe.read.rawValue) && during.contains(pipe.write.rawValue))
            pipe.read.close()
            pipe.write.close()
            #expect(DescriptorCensus.openDescriptors() == before)
        }

        @Test("exit statuses and signals read as people say them")
        func descriptions() {
            #expect(ChildProcess.ExitStatus.exited(3).description == "exited with status 3")
            #expect(ChildProcess.ExitStatus.signaled(SIGKILL).description == "killed by SIGKILL")
            #expect(signalName(SIGTERM) == "SIGTERM")
            #expect(signalName(SIGUSR1) == "SIGUSR1")
        }
    }
}
