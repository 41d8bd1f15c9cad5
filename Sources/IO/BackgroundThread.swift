import Glibc

/// Runs blocking work (disk reads, hashing) on a short-lived thread of its own, so that the
/// event loop never waits for it. Unlike a dispatch queue it leaves no threads or descriptors
/// behind once the work is done.
public enum BackgroundThread {
    public static func run(_ work: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {
            let work: @Sendable () -> Void
            init(_ work: @escaping @Sendable () -> Void) { self.work = work }
        }
        let box = Unmanaged.passRetained(Box(work)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<AnyObject>.fromOpaque(argument!).takeRetainedValue() as! Box
            box.work()
            return nil
        }, box)
        if created == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had: do the work here rather than not at all.
            Unmanaged<AnyObject>.fromOpaque(box).takeRetainedValue()
            work()
        }
    }
}
