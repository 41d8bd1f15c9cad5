import JSON

/// What a modern caller's request said, shared by reference: a call's record is read and
/// copied several times on the hot path, and a reference copies with one retain.
final class ModernRequest {
    let meta: RequestMeta
    let method: String
    let params: DeferredParams

    init(meta: RequestMeta, method: String, params: DeferredParams) {
        self.meta = meta
        self.method = method
        self.params = params
    }
}

/// A modern request's params as the bytes they arrived in, parsed only if the bridge needs
/// them (to bind a `requestState` to the request, or to hold the call): most calls never do.
struct DeferredParams {
    private enum Storage {
        case bytes(ArraySlice<UInt8>)
        case parsed(JSONValue)
    }
    private let storage: Storage

    /// The params of `request`, found at `range` by its envelope scan.
    init(of request: [UInt8], at range: Range<Int>?) {
        storage = range.map { .bytes(request[$0]) } ?? .parsed(.object([:]))
    }

    init(_ value: JSONValue) {
        storage = .parsed(value)
    }

    var value: JSONValue {
        switch storage {
        case .parsed(let value): value
        case .bytes(let bytes): (try? JSONParser.parse(bytes)) ?? .object([:])
        }
    }
}
