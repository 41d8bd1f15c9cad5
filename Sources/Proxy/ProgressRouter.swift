import JSON

/// Which client a progress notification from an upstream belongs to. Clients pick their own
/// progress tokens, so two may pick the same one: each forwarded request gets a token of the
/// proxy's own, and a route back from (server, that token) to the client's session and token.
/// A route lives as long as its request: closed when it is answered, cancelled or abandoned.
struct ProgressRouter {
    struct Route {
        let session: ClientSession
        let upstreamID: Int64
        let clientToken: [UInt8]
    }

    private struct Key: Hashable {
        let server: String
        let token: [UInt8]
    }

    private var routes: [Key: Route] = [:]
    private var issued = 0

    var count: Int { routes.count }

    /// A token no other request of this process carries.
    mutating func issueToken() -> JSONValue {
        issued += 1
        return .string("plugboard-progress-\(issued)")
    }

    mutating func open(server: String, token: [UInt8], route: Route) {
        routes[Key(server: server, token: token)] = route
    }

    mutating func close(server: String, token: [UInt8]) {
        routes[Key(server: server, token: token)] = nil
    }

    func route(server: String, token: [UInt8]) -> Route? {
        routes[Key(server: server, token: token)]
    }

    mutating func closeAll(of session: ClientSession) {
        routes = routes.filter { $0.value.session !== session }
    }

    /// Closes the route of the request `upstreamID` at `server`, whatever its token.
    mutating func closeAll(server: String, upstreamID: Int64) {
        routes = routes.filter { !($0.key.server == server && $0.value.upstreamID == upstreamID) }
    }
}
