import JSON
import Plugins

/// What the core reports of itself at one moment: the one source of the status dump (SIGUSR1,
/// the status file, `/status`) and of `/metrics`, so that the two cannot disagree and a renamed
/// field is a compile error, not a silent zero.
public struct ProxyStatus: Sendable {
    /// Where every client request went: `received` is the sum of the rest at every moment.
    public struct Accounting: Sendable, Equatable {
        public let received: Int
        public let answeredOK: Int
        public let answeredError: Int
        /// Received and not answered yet.
        public let unanswered: Int
        public let abandoned: Int
        public let cancelled: Int
        public let duplicateIDs: Int

        init(open: Int, tally: RequestLedger.Tally) {
            received = open + tally.ended
            answeredOK = tally.answeredOK
            answeredError = tally.answeredError
            unanswered = open
            abandoned = tally.abandoned
            cancelled = tally.cancelled
            duplicateIDs = tally.duplicate
        }
    }

    public struct Bridge: Sendable {
        public let heldCalls: Int
        public let heldCallsExpired: Int
        public let rejectedRequestStates: Int
        public let subscriptions: Int
    }

    public struct ListCacheStatus: Sendable {
        public let entries: Int
        public let hits: Int
        public let misses: Int
        public let fetches: Int
    }

    public let phase: String
    public let generation: Int
    public let isAggregated: Bool
    public let sessions: Int
    public let notifications: Int
    public let parseErrors: Int
    public let invalidRequests: Int
    public let accounting: Accounting
    public let bridge: Bridge
    public let listCache: ListCacheStatus
    public let upstreams: [UpstreamStatus]
    public let tokenSavings: TokenSavings
    public let pluginPools: [PluginPoolStatus]
    public let execPlugins: [String]

    public var json: JSONObject {
        var servers: JSONObject = [:]
        for upstream in upstreams { servers[upstream.name] = .object(upstream.json) }
        var plugins = pluginPools.json
        for name in execPlugins { plugins[name] = ["mode": "exec"] }
        return [
            "phase": .string(phase),
            "generation": .number(JSONNumber(generation)),
            "exposure": isAggregated ? "aggregated" : "transparent",
            "sessions": .number(JSONNumber(sessions)),
            "requests": .number(JSONNumber(accounting.received)),
            "notifications": .number(JSONNumber(notifications)),
            "parseErrors": .number(JSONNumber(parseErrors)),
            "invalidRequests": .number(JSONNumber(invalidRequests)),
            "failedRequests": .number(JSONNumber(accounting.answeredError)),
            "accounting": [
                "received": .number(JSONNumber(accounting.received)),
                "answeredOK": .number(JSONNumber(accounting.answeredOK)),
                "answeredError": .number(JSONNumber(accounting.answeredError)),
                "unanswered": .number(JSONNumber(accounting.unanswered)),
                "abandoned": .number(JSONNumber(accounting.abandoned)),
                "cancelled": .number(JSONNumber(accounting.cancelled)),
                "duplicateIDs": .number(JSONNumber(accounting.duplicateIDs)),
            ],
            "bridge": [
                "heldCalls": .number(JSONNumber(bridge.heldCalls)),
                "heldCallsExpired": .number(JSONNumber(bridge.heldCallsExpired)),
                "rejectedRequestStates": .number(JSONNumber(bridge.rejectedRequestStates)),
                "subscriptions": .number(JSONNumber(bridge.subscriptions)),
            ],
            "listCache": [
                "entries": .number(JSONNumber(listCache.entries)),
                "hits": .number(JSONNumber(listCache.hits)),
                "misses": .number(JSONNumber(listCache.misses)),
                "fetches": .number(JSONNumber(listCache.fetches)),
            ],
            "upstreams": .object(servers),
            "tokens": .object(tokenSavings.json),
            "plugins": .object(plugins),
        ]
    }
}

/// One upstream server's part of `ProxyStatus`.
public struct UpstreamStatus: Sendable {
    public let name: String
    public let phase: String
    /// Started, initializing or ready: not restarting, stopping or stopped.
    public let isUp: Bool
    public let era: String?
    public let protocolVersion: String?
    public let processID: Int32?
    public let endpoint: String?
    public let inFlight: Int
    public let restarts: Int
    public let timeouts: Int
    public let requestsSent: Int
    public let responsesReceived: Int
    public let failedByExit: Int
    public let unmatchedResponses: Int
    public let malformedMessages: Int
    public let isHealthy: Bool
    public let lastHealthCheck: (at: String, passed: Bool)?
    public let oauth: OAuthStatus?

    public struct OAuthStatus: Sendable {
        public let isAuthorized: Bool
        public let renewals: Int
        public let renewalFailures: Int
        public let rejections: Int
        /// Everything the status dump shows of it: state, expiry, scopes; never a token.
        public let json: JSONObject
    }

    public var json: JSONObject {
        [
            "phase": .string(phase),
            "era": era.map { .string($0) } ?? .null,
            "protocol": protocolVersion.map { .string($0) } ?? .null,
            "pid": processID.map { .number(JSONNumber(Int64($0))) } ?? .null,
            "endpoint": endpoint.map { .string($0) } ?? .null,
            "inFlight": .number(JSONNumber(inFlight)),
            "restarts": .number(JSONNumber(restarts)),
            "timeouts": .number(JSONNumber(timeouts)),
            "requestsSent": .number(JSONNumber(requestsSent)),
            "responsesReceived": .number(JSONNumber(responsesReceived)),
            "failedByExit": .number(JSONNumber(failedByExit)),
            "unmatchedResponses": .number(JSONNumber(unmatchedResponses)),
            "malformedMessages": .number(JSONNumber(malformedMessages)),
            "healthy": .bool(isHealthy),
            "lastHealthCheck": lastHealthCheck.map { ["at": .string($0.at), "passed": .bool($0.passed)] } ?? .null,
            "oauth": oauth.map { .object($0.json) } ?? .null,
        ]
    }
}
