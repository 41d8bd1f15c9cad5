import Config
import Glibc
import JSON

/// Listening sockets a parent bound and handed down: plugboard's outer process binds every
/// listener once and each core it starts accepts on the same sockets, so a connection that
/// arrives while no core runs waits in the backlog instead of being refused. Each descriptor is
/// named by what it listens on, in the environment (`PLUGBOARD_LISTEN_FDS`, a JSON array).
public struct InheritedListeners: Sendable {
    public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
        case http(ListenAddress)
        case admin(ListenAddress)
        case unix(path: String)

        public var description: String {
            switch self {
            case .http(let address): "http \(address)"
            case .admin(let address): "admin \(address)"
            case .unix(let path): "unix \(path)"
            }
        }

        fileprivate var key: (String, String) {
            switch self {
            case .http(let address): ("http", address.description)
            case .admin(let address): ("admin", address.description)
            case .unix(let path): ("unix", path)
            }
        }

        fileprivate init?(key: String, value: String) {
            switch key {
            case "http": guard let address = ListenAddress(parsing: value) else { return nil }; self = .http(address)
            case "admin": guard let address = ListenAddress(parsing: value) else { return nil }; self = .admin(address)
            case "unix": self = .unix(path: value)
            default: return nil
            }
        }
    }

    public static let environmentKey = "PLUGBOARD_LISTEN_FDS"

    public private(set) var descriptors: [Endpoint: Int32]

    public init(_ descriptors: [Endpoint: Int32] = [:]) {
        self.descriptors = descriptors
    }

    /// Binds every endpoint; on a failure the ones bound so far are closed.
    public static func bind(_ endpoints: [Endpoint]) throws(SocketError) -> InheritedListeners {
        var bound: [Endpoint: Int32] = [:]
        for endpoint in endpoints where bound[endpoint] == nil {
            do {
                switch endpoint {
                case .http(let address), .admin(let address): bound[endpoint] = try ListeningSocket.tcp(address)
                case .unix(let path): bound[endpoint] = try ListeningSocket.unix(path: path)
                }
            } catch {
                for descriptor in bound.values { close(descriptor) }
                throw error
            }
        }
        return InheritedListeners(bound)
    }

    /// The environment value naming each descriptor as the child will number it.
    public func environmentValue(numbering: [Endpoint: Int32]) -> String {
        let entries = numbering.sorted { $0.value < $1.value }.map { endpoint, descriptor -> JSONValue in
            let (key, value) = endpoint.key
            return .object(JSONObject(uniqueKeysWithValues: [("fd", .number(JSONNumber(Int(descriptor)))), (key, .string(value))]))
        }
        return JSONValue.array(entries).serializedString
    }

    /// What this process was handed, read once: the variable is cleared and the descriptors made
    /// close-on-exec, so that nothing this process starts inherits them.
    public static func fromEnvironment() throws(SocketError) -> InheritedListeners {
        guard let text = getenv(environmentKey).map({ String(cString: $0) }) else { return InheritedListeners() }
        unsetenv(environmentKey)
        let listeners = try InheritedListeners(environmentValue: text)
        for descriptor in listeners.descriptors.values {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        return listeners
    }

    /// Reads `environmentValue(numbering:)`'s text. Every entry must name a distinct endpoint
    /// and a distinct descriptor above 2 that is a listening socket.
    public init(environmentValue text: String) throws(SocketError) {
        func invalid(_ why: String) -> SocketError { SocketError("read \(Self.environmentKey) (\(why))", code: EINVAL) }
        guard let entries = (try? JSONParser.parse(text))?.arrayValue else { throw invalid("not a JSON array") }
        var descriptors: [Endpoint: Int32] = [:]
        for entry in entries {
            guard let object = entry.objectValue, let number = object["fd"]?.int64Value, let descriptor = Int32(exactly: number),
                let (key, value) = object.first(where: { $0.key != "fd" }).flatMap({ member in member.value.stringValue.map { (member.key, $0) } }),
                let endpoint = Endpoint(key: key, value: value)
            else { throw invalid("an entry that names no descriptor and endpoint: \(entry.serializedString)") }
            guard descriptor > 2, !descriptors.values.contains(descriptor), descriptors[endpoint] == nil else {
                throw invalid("descriptor \(descriptor) for \(endpoint): a standard stream, or named twice")
            }
            var listening: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else {
                throw invalid("descriptor \(descriptor) for \(endpoint) is not a listening socket")
            }
            descriptors[endpoint] = descriptor
        }
        self.init(descriptors)
    }

    /// The descriptor for `endpoint`, which is then the caller's.
    public mutating func take(_ endpoint: Endpoint) -> Int32? {
        descriptors.removeValue(forKey: endpoint)
    }

    /// Closes what nobody took (an endpoint the configuration no longer names).
    public mutating func closeAll() {
        for descriptor in descriptors.values { close(descriptor) }
        descriptors = [:]
    }
}
