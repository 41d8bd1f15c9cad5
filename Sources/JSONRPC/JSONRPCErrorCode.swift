/// JSON-RPC 2.0 error codes, plus the server-range codes the MCP SDKs use.
public enum JSONRPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// A request timed out (MCP SDK convention).
    public static let requestTimeout = -32001
    /// A named resource does not exist (MCP convention).
    public static let resourceNotFound = -32002
}
