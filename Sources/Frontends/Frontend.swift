/// What the supervisor needs of any frontend when it stops: flush what clients are owed, close.
public protocol Frontend: AnyObject {
    /// Bytes written for clients that they have not read yet.
    var pendingOutputBytes: Int { get }
    /// Stops taking new clients or messages.
    func stopAccepting()
    /// Flushes what is queued and closes every client connection.
    func finish()
}

extension StdioFrontend: Frontend {
    public func stopAccepting() {}
}

extension UnixSocketFrontend: Frontend {
    public func stopAccepting() { stopListening() }
}

extension StreamableHTTPFrontend: Frontend {}
