/// A min-heap of deadlines for `EventLoop`; cancelled timers are dropped lazily when they surface.
struct TimerQueue {
    private struct Entry {
        let deadline: UInt64
        let id: UInt64
    }

    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    mutating func add(deadline: UInt64, action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return id
    }

    mutating func cancel(_ id: UInt64) {
        actions[id] = nil
    }

    mutating func popDue(now: UInt64) -> (() -> Void)? {
        while let top = heap.first {
            guard actions[top.id] != nil else {
                removeTop()
                continue
            }
            guard top.deadline <= now else { return nil }
            removeTop()
            return actions.removeValue(forKey: top.id)
        }
        return nil
    }

    /// The epoll timeout: -1 when nothing is scheduled, rounded up so a timer never fires early.
    mutating func millisecondsUntilNextDeadline(now: UInt64) -> Int32 {
        while let top = heap.first, actions[top.id] == nil { removeTop() }
        guard let top = heap.first else { return -1 }
        if top.deadline <= now { return 0 }
        let millis = (top.deadline - now + 999_999) / 1_000_000
        return Int32(min(millis, UInt64(Int32.max)))
    }

    private mutating func removeTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].deadline != heap[b].deadline ? heap[a].deadline < heap[b].deadline : heap[a].id < heap[b].id
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && less(left, smallest) { smallest = left }
            if right < heap.count && less(right, smallest) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
