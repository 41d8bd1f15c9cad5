import JSON

/// What a router needs from a JSON-RPC 2.0 message, read without building its values.
///
/// `scan` validates the whole message exactly as `JSONParser` does (the same inputs are
/// accepted and fail with the same `JSONError`), but decodes only `method` and `id`;
/// other members are located as byte ranges so they can be forwarded or sliced untouched.
public struct JSONRPCEnvelope: Sendable, Equatable {
    /// The four shapes of a JSON-RPC message.
    public enum Kind: Sendable, Equatable {
        case request
        case notification
        case successResponse
        case errorResponse
    }

    /// The message's shape.
    public var kind: Kind
    /// The method of a request or notification.
    public var method: String?
    /// The id, unless absent (notifications) or null (`hasNullID`).
    public var id: JSONRPCID?
    /// Whether the id is `null`, which only error responses may have.
    public var hasNullID: Bool
    /// Byte range of the id's token (including quotes, or the `null` token).
    public var idRange: Range<Int>?
    /// Byte range of the `params` value.
    public var paramsRange: Range<Int>?
    /// Byte range of `params._meta`, the member MCP reserves for request metadata, when
    /// `params` is an object that has it.
    public var paramsMetaRange: Range<Int>?
    /// Byte range of the `result` value.
    public var resultRange: Range<Int>?
    /// Byte range of the `error` value.
    public var errorRange: Range<Int>?

    public init(
        kind: Kind, method: String? = nil, id: JSONRPCID? = nil, hasNullID: Bool = false,
        idRange: Range<Int>? = nil, paramsRange: Range<Int>? = nil, paramsMetaRange: Range<Int>? = nil,
        resultRange: Range<Int>? = nil, errorRange: Range<Int>? = nil
    ) {
        self.kind = kind
        self.method = method
        self.id = id
        self.hasNullID = hasNullID
        self.idRange = idRange
        self.paramsRange = paramsRange
        self.paramsMetaRange = paramsMetaRange
        self.resultRange = resultRange
        self.errorRange = errorRange
    }

    /// Validates and classifies one message.
    ///
    /// Top level must be an object with `"jsonrpc": "2.0"`. A request has `method` and
    /// `id`; a notification `method` and no `id`; a response an `id` and exactly one of
    /// `result` and `error`. Ids are strings or integers that fit in Int64; a null id is
    /// allowed only on error responses. `params` must be an object or array, `error`
    /// an object. Other members are ignored. Batches (top-level arrays) are rejected.
    public static func scan(
        _ message: UnsafeRawBufferPointer, options: JSONParser.Options = .init()
    ) throws(JSONRPCScanError) -> JSONRPCEnvelope {
        let members: Members
        do throws(JSONError) {
            members = try Members(message, options: options)
        } catch {
            throw .parseError(error)
        }
        return try members.classify()
    }

    /// Validates and classifies one message.
    public static func scan(_ message: [UInt8], options: JSONParser.Options = .init()) throws(JSONRPCScanError) -> JSONRPCEnvelope {
        let result = message.withUnsafeBytes { buffer in
            Result { () throws(JSONRPCScanError) in try scan(buffer, options: options) }
        }
        return try result.get()
    }

    /// Validates and classifies one message.
    public static func scan(_ message: ArraySlice<UInt8>, options: JSONParser.Options = .init()) throws(JSONRPCScanError) -> JSONRPCEnvelope {
        let result = message.withUnsafeBytes { buffer in
            Result { () throws(JSONRPCScanError) in try scan(buffer, options: options) }
        }
        return try result.get()
    }

    /// `message` with the bytes in `idRange` replaced by `newIDText`, in one allocation.
    public static func replacingID(
        in message: [UInt8], idRange: Range<Int>, with newIDText: some Collection<UInt8>
    ) -> [UInt8] {
        precondition(idRange.lowerBound >= 0 && idRange.upperBound <= message.count, "id range outside the message")
        let newCount = newIDText.count
        let total = message.count - idRange.count + newCount
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            message.withUnsafeBufferPointer { source in
                let prefix = UnsafeBufferPointer(rebasing: source[..<idRange.lowerBound])
                let suffix = UnsafeBufferPointer(rebasing: source[idRange.upperBound...])
                _ = UnsafeMutableBufferPointer(rebasing: out[..<prefix.count]).initialize(fromContentsOf: prefix)
                let idEnd = prefix.count + newCount
                _ = UnsafeMutableBufferPointer(rebasing: out[prefix.count..<idEnd]).initialize(fromContentsOf: newIDText)
                _ = UnsafeMutableBufferPointer(rebasing: out[idEnd...]).initialize(fromContentsOf: suffix)
            }
            initialized = total
        }
    }

    /// `message` (the one this envelope was scanned from) with its id token replaced,
    /// or nil if it has none.
    public func replacingID(in message: [UInt8], with newIDText: some Collection<UInt8>) -> [UInt8]? {
        guard let idRange else { return nil }
        return Self.replacingID(in: message, idRange: idRange, with: newIDText)
    }
}

/// The members `scan` looks at, gathered while validating the whole message.
private struct Members {
    enum Shape {
        case object
        case array
        case other
    }

    enum IDValue {
        case absent
        case null
        case valid(JSONRPCID)
        case invalid(reason: String)
    }

    var shape: Shape = .other
    var hasJSONRPC = false
    var jsonrpcIs20 = false
    var hasMethod = false
    var method: String?
    var id: IDValue = .absent
    var idRange: Range<Int>?
    var paramsRange: Range<Int>?
    var paramsMetaRange: Range<Int>?
    var paramsIsStructured = false
    var resultRange: Range<Int>?
    var errorRange: Range<Int>?
    var errorIsObject = false

    init(_ message: UnsafeRawBufferPointer, options: JSONParser.Options) throws(JSONError) {
        guard !message.isEmpty else { throw JSONSyntaxReader.emptyInputError }
        var reader = JSONSyntaxReader(message, maxDepth: options.maxDepth)
        reader.skipWhitespace()
        guard reader.position < reader.end, reader.byte(at: reader.position) == UInt8(ascii: "{") else {
            if reader.position < reader.end, reader.byte(at: reader.position) == UInt8(ascii: "[") {
                shape = .array
            }
            try reader.skipValue(depth: 0, expected: "a JSON value")
            try reader.finishDocument()
            return
        }
        shape = .object
        if let mark = try reader.beginObject(depth: 1) {
            var isFirst = true
            repeat {
                let name = try reader.readMemberName(objectMark: mark, isFirst: isFirst)
                isFirst = false
                try readMember(name, with: &reader)
            } while try reader.endOfMember()
            try reader.finishObject(objectMark: mark)
        }
        try reader.finishDocument()
    }

    private mutating func readMember(_ name: JSONStringToken, with reader: inout JSONSyntaxReader) throws(JSONError) {
        let start = reader.position
        let first = start < reader.end ? reader.byte(at: start) : 0
        if reader.string(name, equals: "id") {
            switch first {
            case UInt8(ascii: "\""):
                let token = try reader.scanString()
                id = .valid(.string(reader.decodeString(token)))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let token = try reader.scanNumber()
                if let value = token.integerValue {
                    id = .valid(.number(value))
                } else {
                    let text = String(decoding: (token.start..<token.end).map { reader.byte(at: $0) }, as: UTF8.self)
                    id = JSONRPCID.isIntegerLiteral(text) ? .valid(.largeInteger(text)) : .invalid(reason: "\"id\" must be a string or an integer")
                }
            case UInt8(ascii: "n"):
                try reader.skipValue(depth: 1, expected: "a value after ':'")
                id = .null
            default:
                try reader.skipValue(depth: 1, expected: "a value after ':'")
                id = .invalid(reason: "\"id\" must be a string, an integer or null")
            }
            idRange = start..<reader.position
        } else if reader.string(name, equals: "method") {
            hasMethod = true
            if first == UInt8(ascii: "\"") {
                method = reader.decodeString(try reader.scanString())
            } else {
                try reader.skipValue(depth: 1, expected: "a value after ':'")
            }
        } else if reader.string(name, equals: "jsonrpc") {
            hasJSONRPC = true
            if first == UInt8(ascii: "\"") {
                jsonrpcIs20 = reader.string(try reader.scanString(), equals: "2.0")
            } else {
                try reader.skipValue(depth: 1, expected: "a value after ':'")
            }
        } else if first == UInt8(ascii: "{"), reader.string(name, equals: "params") {
            try readParamsObject(with: &reader)
            paramsRange = start..<reader.position
            paramsIsStructured = true
        } else {
            try reader.skipValue(depth: 1, expected: "a value after ':'")
            let range = start..<reader.position
            if reader.string(name, equals: "params") {
                paramsRange = range
                paramsIsStructured = first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
            } else if reader.string(name, equals: "result") {
                resultRange = range
            } else if reader.string(name, equals: "error") {
                errorRange = range
                errorIsObject = first == UInt8(ascii: "{")
            }
        }
    }

    /// Validates an object `params` as `skipValue` would, noting where its `_meta` is.
    private mutating func readParamsObject(with reader: inout JSONSyntaxReader) throws(JSONError) {
        guard let mark = try reader.beginObject(depth: 2) else { return }
        var isFirst = true
        repeat {
            let name = try reader.readMemberName(objectMark: mark, isFirst: isFirst)
            isFirst = false
            let start = reader.position
            try reader.skipValue(depth: 2, expected: "a value after ':'")
            if reader.string(name, equals: "_meta") { paramsMetaRange = start..<reader.position }
        } while try reader.endOfMember()
        try reader.finishObject(objectMark: mark)
    }

    func classify() throws(JSONRPCScanError) -> JSONRPCEnvelope {
        switch shape {
        case .array: throw .invalidRequest(reason: "batches are not supported", id: nil)
        case .other: throw .invalidRequest(reason: "a JSON-RPC message must be a JSON object", id: nil)
        case .object: break
        }
        var validID: JSONRPCID? = nil
        if case .valid(let value) = id { validID = value }
        func invalid(_ reason: String) -> JSONRPCScanError {
            .invalidRequest(reason: reason, id: validID)
        }
        guard hasJSONRPC else { throw invalid("missing \"jsonrpc\": \"2.0\"") }
        guard jsonrpcIs20 else { throw invalid("\"jsonrpc\" must be \"2.0\"") }
        if case .invalid(let reason) = id { throw invalid(reason) }
        var envelope = JSONRPCEnvelope(
            kind: .request, method: method, id: validID, idRange: idRange,
            paramsRange: paramsRange, paramsMetaRange: paramsMetaRange, resultRange: resultRange, errorRange: errorRange)
        if hasMethod {
            guard method != nil else { throw invalid("\"method\" must be a string") }
            guard resultRange == nil, errorRange == nil else {
                throw invalid("a request or notification must not carry \"result\" or \"error\"")
            }
            if case .null = id { throw invalid("a request must not have a null \"id\"") }
            if paramsRange != nil, !paramsIsStructured { throw invalid("\"params\" must be an object or an array") }
            envelope.kind = validID == nil ? .notification : .request
            return envelope
        }
        if case .absent = id {
            throw invalid(
                resultRange == nil && errorRange == nil
                    ? "a message needs a \"method\" (request or notification) or an \"id\" (response)"
                    : "a response must carry an \"id\"")
        }
        guard paramsRange == nil else { throw invalid("a response must not carry \"params\"") }
        switch (resultRange, errorRange) {
        case (nil, nil):
            throw invalid("a response must carry \"result\" or \"error\"")
        case (.some, .some):
            throw invalid("a response must not carry both \"result\" and \"error\"")
        case (.some, nil):
            if case .null = id { throw invalid("a success response must not have a null \"id\"") }
            envelope.kind = .successResponse
        case (nil, .some):
            guard errorIsObject else { throw invalid("\"error\" must be an object") }
            if case .null = id { envelope.hasNullID = true }
            envelope.kind = .errorResponse
        }
        return envelope
    }
}

extension JSONRPCEnvelope {
    /// The top-level `id` of a message that cannot be scanned whole (cut short, nested too
    /// deeply, over a limit), so that its request can still be answered; nil when the bytes
    /// do not get that far. Only the members before `id` need to be intact.
    public static func id(inPrefix bytes: some Collection<UInt8>) -> JSONRPCID? {
        var cursor = PrefixCursor(Array(bytes))
        return cursor.topLevelID()
    }
}

/// A forgiving walk over the start of a JSON object: strings, nesting and scalars are skipped
/// by their delimiters alone, without validation.
private struct PrefixCursor {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func topLevelID() -> JSONRPCID? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            if key.elementsEqual(Array(#""id""#.utf8)) { return idValue() }
            guard skipValue() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    private mutating func idValue() -> JSONRPCID? {
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "\"") {
            guard let token = string(), let value = try? JSONParser.parse(token) else { return nil }
            return value.stringValue.map(JSONRPCID.string)
        }
        let start = index
        while index < bytes.count, bytes[index] == UInt8(ascii: "-") || (bytes[index] >= 0x30 && bytes[index] <= 0x39) { index += 1 }
        // The number must visibly end here, not at the cut.
        guard index < bytes.count, [UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]),
            let value = try? JSONParser.parse(Array(bytes[start..<index]))
        else { return nil }
        return JSONRPCID(jsonValue: value)
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A whole string token, quotes included.
    private mutating func string() -> ArraySlice<UInt8>? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var cursor = index + 1
        while cursor < bytes.count {
            switch bytes[cursor] {
            case UInt8(ascii: "\\"): cursor += 2
            case UInt8(ascii: "\""):
                defer { index = cursor + 1 }
                return bytes[index...cursor]
            default: cursor += 1
            }
        }
        return nil
    }

    /// Skips one value of any depth; false when the bytes end first.
    private mutating func skipValue() -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default: break
                }
                index += 1
            }
            return false
        default:
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            return index < bytes.count
        }
    }
}

