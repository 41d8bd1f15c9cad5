import Dispatch
import Glibc
import Processes
import Synchronization
import Testing

extension ProcessBehaviour {
    @Suite("Watching signals")
    struct WatchingSignals {
        @Test("a SignalWatcher receives a SIGUSR1 sent to the process")
        func receivesSIGUSR1() throws {
            let received = Mutex<[Int32]>([])
            let arrived = DispatchSemaphore(value: 0)
            let watcher = SignalWatcher(signals: [SIGUSR1]) { signal in
                received.withLock { $0.append(signal) }
                arrived.signal()
            }
            #expect(kill(getpid(), SIGUSR1) == 0)
            #expect(arrived.wait(timeout: .now() + 5) == .success)
            watcher.stop()
            #expect(received.withLock { $0 } == [SIGUSR1])

            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }

        @Test("stopping a watcher releases its descriptors")
        func stopReleasesDescriptors() throws {
            let before = DescriptorCensus.openDescriptors()
            let watcher = SignalWatcher(signals: [SIGUSR2]) { _ in }
            #expect(DescriptorCensus.openDescriptors().count == before.count + 3)
            watcher.stop()
            watcher.stop()
            #expect(DescriptorCensus.openDescriptors() == before)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }
}
