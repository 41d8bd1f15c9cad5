import IO

/// How messages reach one upstream server and come back: a child process's pipes, or HTTP.
/// `UpstreamConnection` speaks MCP over it without knowing which.
protocol UpstreamLink: AnyObject {
    /// Each JSON-RPC message from the server, with the id of the request whose answer carried
    /// it when the transport tells (a Streamable HTTP POST stream), so a server request
    /// (sampling, elicitation) can go back to the client whose call caused it.
    var onMessage: (_ message: [UInt8], _ relatedRequest: Int64?) -> Void { get set }
    /// The link is gone for good (process exited, remote session lost); called once, on the loop.
    var onClosed: (_ reason: String) -> Void { get set }
    /// Starts the process or the connection; messages may be sent at once.
    func open()
    func send(_ message: [UInt8]) -> PipeChannel.SendOutcome
    /// Ends politely (stdin EOF, session DELETE), then firmly if the server lingers.
    func close()
    /// Ends now: the server is broken (failed initialize or health checks).
    func abort()
    /// The child's pid, for status; nil for remote servers.
    var processID: Int32? { get }
    /// What the log calls the server: its command line or URL.
    var endpoint: String { get }
}
