/// JSON-RPC 2.0 error codes, plus the server-range codes the MCP SDKs use.
public enum JSONRPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// A request timed out (MCP SDK convention).
    public static let requestTimeout = -32001
    /// The HTTP session named by `Mcp-Session-Id` is unknown (with 404). The SDKs' own value,
    /// the same number as `requestTimeout`: the HTTP status tells them apart.
    public static let sessionNotFound = -32001
    /// A named resource does not exist (MCP 2025-11-25 and earlier; modern revisions use `invalidParams`).
    public static let resourceNotFound = -32002
    /// MCP 2026-07-28: HTTP headers disagree with the body, or a required one is missing.
    public static let headerMismatch = -32020
    /// MCP 2026-07-28: the request needs a client capability it did not declare.
    public static let missingRequiredClientCapability = -32021
    /// MCP 2026-07-28: the request's protocol version is not one the server speaks.
    public static let unsupportedProtocolVersion = -32022
}
