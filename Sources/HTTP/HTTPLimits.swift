/// Bounds on what a parser accepts, so a peer cannot make it buffer without end.
public struct HTTPLimits: Sendable, Equatable {
    /// Request or status line, header fields and trailer fields together, CRLFs included.
    /// Over it: 431 (414 when the request line alone is already longer than `maxTargetBytes`).
    public var maxHeaderBytes: Int
    /// Header and trailer fields together. Over it: 431.
    public var maxHeaderCount: Int
    /// The request target. Over it: 414.
    public var maxTargetBytes: Int
    /// A request body, declared or chunked. Over it: 413, as soon as it is known. Response
    /// bodies are streamed and not limited.
    public var maxBodyBytes: Int

    public init(
        maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100, maxTargetBytes: Int = 8_192, maxBodyBytes: Int = 16 * 1024 * 1024
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxTargetBytes = maxTargetBytes
        self.maxBodyBytes = maxBodyBytes
    }
}
