/// Writes log lines tagged with the component they come from (`proxy`, `upstream:docs`, `plugin:curate`).
///
/// Messages are autoclosures: a line below the configured level costs one comparison.
public struct Logger: Sendable {
    public let component: String
    public let output: LogOutput

    public init(component: String, output: LogOutput = .standardError) {
        self.component = component
        self.output = output
    }

    /// The same output, another component tag.
    public func tagged(_ component: String) -> Logger {
        Logger(component: component, output: output)
    }

    public func isEnabled(_ level: LogLevel) -> Bool { output.isEnabled(level) }

    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]
    ) {
        guard output.isEnabled(level) else { return }
        output.write(level: level, component: component, message: message(), fields: fields)
    }

    public func trace(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.trace, message(), fields)
    }
    public func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.debug, message(), fields)
    }
    public func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.info, message(), fields)
    }
    public func notice(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.notice, message(), fields)
    }
    public func warning(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.warning, message(), fields)
    }
    public func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.error, message(), fields)
    }
}
