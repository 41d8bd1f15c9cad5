import Glibc

/// A value reachable from several threads, behind a pthread mutex.
///
/// Synchronization's `Mutex` would do the same, but on Linux it locks with raw futex calls that
/// ThreadSanitizer cannot see, so every use of it is reported as a race and the sanitizer
/// becomes useless for the code around it. A pthread mutex it understands.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
