import Config
import JSON

/// The four paginated listings a proxy has to merge and filter.
enum ListKind: CaseIterable {
    case tools, prompts, resources, resourceTemplates

    init?(method: String) {
        guard let kind = Self.allCases.first(where: { $0.method == method }) else { return nil }
        self = kind
    }

    var method: String {
        switch self {
        case .tools: MCPMethod.toolsList
        case .prompts: MCPMethod.promptsList
        case .resources: MCPMethod.resourcesList
        case .resourceTemplates: MCPMethod.resourceTemplatesList
        }
    }

    /// The array member of the result.
    var resultKey: String {
        switch self {
        case .tools: "tools"
        case .prompts: "prompts"
        case .resources: "resources"
        case .resourceTemplates: "resourceTemplates"
        }
    }

    /// The server capability that promises this listing.
    var capability: String {
        switch self {
        case .tools: "tools"
        case .prompts: "prompts"
        case .resources, .resourceTemplates: "resources"
        }
    }

    /// The member that identifies an item, and what filters match against.
    var identityKey: String {
        switch self {
        case .tools, .prompts: "name"
        case .resources: "uri"
        case .resourceTemplates: "uriTemplate"
        }
    }

    func filter(of server: UpstreamServer) -> NameFilter {
        switch self {
        case .tools: server.tools
        case .prompts: server.prompts
        case .resources: server.resources
        case .resourceTemplates: NameFilter()
        }
    }

    /// Drops items the filter hides; everything else in the result is kept as it was.
    func filtered(_ result: JSONValue, by filter: NameFilter) -> JSONValue {
        guard !filter.isPassThrough, case .object(var object) = result, let items = object[resultKey]?.arrayValue else {
            return result
        }
        object[resultKey] = .array(items.filter { filter.allows($0[identityKey]?.stringValue ?? "") })
        return .object(object)
    }
}
