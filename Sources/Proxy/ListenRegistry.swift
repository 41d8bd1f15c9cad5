import JSON
import JSONRPC

/// Modern clients' open `subscriptions/listen` requests, and what each asked to hear.
struct ListenRegistry {
    struct Filter: Equatable {
        var toolsListChanged = false
        var promptsListChanged = false
        var resourcesListChanged = false
        var resourceURIs: [String] = []

        init(params: JSONValue?) {
            let notifications = params?["notifications"]
            toolsListChanged = notifications?["toolsListChanged"]?.boolValue == true
            promptsListChanged = notifications?["promptsListChanged"]?.boolValue == true
            resourcesListChanged = notifications?["resourcesListChanged"]?.boolValue == true
            resourceURIs = notifications?["resourceSubscriptions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }

        init() {}

        /// Whether a notification of `method` (about `uri`, for resource updates) belongs here.
        func wants(_ method: String, uri: String?) -> Bool {
            switch method {
            case MCPMethod.toolsListChanged: toolsListChanged
            case MCPMethod.promptsListChanged: promptsListChanged
            case MCPMethod.resourcesListChanged: resourcesListChanged
            case MCPMethod.resourcesUpdated: uri.map(resourceURIs.contains) ?? false
            default: false
            }
        }

        /// The filter as the acknowledgment states it: only the types the client asked for.
        var acknowledged: JSONObject {
            var object: JSONObject = [:]
            if toolsListChanged { object["toolsListChanged"] = true }
            if promptsListChanged { object["promptsListChanged"] = true }
            if resourcesListChanged { object["resourcesListChanged"] = true }
            if !resourceURIs.isEmpty { object["resourceSubscriptions"] = .array(resourceURIs.map { .string($0) }) }
            return object
        }
    }

    struct Listen {
        let session: ClientSession
        let idText: [UInt8]
        /// The request's id, which tags every notification of the subscription.
        let id: JSONValue
        let filter: Filter
    }

    private(set) var listens: [Listen] = []

    var count: Int { listens.count }

    mutating func add(_ listen: Listen) { listens.append(listen) }

    /// Ends the listen `idText` of `session`; returns it if it was open.
    @discardableResult
    mutating func remove(_ idText: [UInt8], of session: ClientSession) -> Listen? {
        guard let index = listens.firstIndex(where: { $0.session === session && $0.idText == idText }) else { return nil }
        return listens.remove(at: index)
    }

    mutating func removeAll(of session: ClientSession) { listens.removeAll { $0.session === session } }

    mutating func removeAll() -> [Listen] {
        defer { listens = [] }
        return listens
    }

    func recipients(of method: String, uri: String?) -> [Listen] {
        listens.filter { $0.filter.wants(method, uri: uri) }
    }

    /// Every URI some listen follows.
    var followedURIs: Set<String> { Set(listens.flatMap(\.filter.resourceURIs)) }
}
