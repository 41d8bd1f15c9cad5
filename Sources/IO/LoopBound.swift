/// Carries a loop-confined value across a `@Sendable` boundary; it may only be opened on its loop.
public struct LoopBound<Value>: @unchecked Sendable {
    // Safe: `value` is only read on `loop`'s thread, which `value` checks on every access.
    private let wrapped: Value
    public let loop: EventLoop

    public init(_ value: Value, loop: EventLoop) {
        self.wrapped = value
        self.loop = loop
    }

    public var value: Value {
        loop.assertInLoop()
        return wrapped
    }
}

extension Array {
    /// Empties the array and returns what it held: for callbacks run on an event, which may
    /// add new ones (for the next time) while the taken ones run.
    public mutating func takeAll() -> [Element] {
        var taken: [Element] = []
        swap(&self, &taken)
        return taken
    }
}
