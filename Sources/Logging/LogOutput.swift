import Glibc
import JSON
import Locking

/// Where log lines go: standard error, one `write(2)` per line, human text or JSON lines.
///
/// Standard output is never touched: in stdio mode it carries nothing but protocol.
public final class LogOutput: Sendable {
    public enum Format: String, Sendable, CaseIterable { case human, json }

    private struct Settings {
        var level: LogLevel = .info
        var format: Format = .human
    }

    public static let standardError = LogOutput(descriptor: STDERR_FILENO)

    private let descriptor: Int32
    private let settings = Locked(Settings())

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public func configure(level: LogLevel, format: Format) {
        settings.withLock { $0 = Settings(level: level, format: format) }
    }

    public var level: LogLevel { settings.withLock { $0.level } }

    func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    func write(level: LogLevel, component: String, message: String, fields: KeyValuePairs<String, String>) {
        let (threshold, format) = settings.withLock { ($0.level, $0.format) }
        guard level >= threshold else { return }
        var line: [UInt8]
        switch format {
        case .human: line = Self.humanLine(level: level, component: component, message: message, fields: fields)
        case .json: line = Self.jsonLine(level: level, component: component, message: message, fields: fields)
        }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return  // stderr is gone; there is nowhere left to complain to
                }
                offset += written
            }
        }
    }

    private static func humanLine(
        level: LogLevel, component: String, message: String, fields: KeyValuePairs<String, String>
    ) -> [UInt8] {
        var text = "\(timestamp()) \(level.description.uppercased().padding(to: 7)) [\(component)] \(message)"
        for (key, value) in fields {
            let needsQuotes = value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            text += needsQuotes ? " \(key)=\(JSONValue.string(value).serializedString)" : " \(key)=\(value)"
        }
        return Array(text.utf8)
    }

    private static func jsonLine(
        level: LogLevel, component: String, message: String, fields: KeyValuePairs<String, String>
    ) -> [UInt8] {
        var object: JSONObject = [
            "time": .string(timestamp()),
            "level": .string(level.description),
            "component": .string(component),
            "message": .string(message),
        ]
        for (key, value) in fields where object[key] == nil {
            object[key] = .string(value)
        }
        return JSONValue.object(object).serialized()
    }

    static func timestamp() -> String { Timestamp.now() }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
