import CSystemShims

/// How the process's allocator treats memory it is given back.
///
/// By default glibc returns the top of its heap to the kernel whenever 128 KB of it is free,
/// so a proxy forwarding 50 KB messages asks for fresh pages, and pays a page fault on every
/// 4 KB of them, for nearly every message: a third of plugboard's CPU at 50 KB, measured with
/// `perf`. Keeping freed memory for reuse, as pooling servers do, ends that. The cost is that
/// up to `retainedBytes` of heap stays resident after a burst.
public enum HeapPolicy {
    public static let retainedBytes = 16 * 1024 * 1024
    /// Messages above this (up to `max_message_bytes`) get mappings of their own, returned
    /// as soon as they are freed, so one huge message does not pin its size in the heap.
    public static let ownMappingAboveBytes = 4 * 1024 * 1024

    /// Applies the policy; false when glibc refused it (the process runs on, as before).
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        pb_malloc_keep_freed(retainedBytes, ownMappingAboveBytes) == 1
    }
}
