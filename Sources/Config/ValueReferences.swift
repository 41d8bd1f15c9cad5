/// Expands `${env:NAME}` and `${file:PATH}` in configured strings when a generation is built:
/// secrets stay out of the TOML. A file's contents lose one trailing newline; a relative path
/// is relative to the configuration directory. `$${` is a literal `${`.
struct ValueReferences {
    let directory: String
    let environment: (String) -> String?

    enum Failure: Error, Equatable, CustomStringConvertible {
        case unsetVariable(String)
        case unreadableFile(path: String, reason: String)
        case malformed(String)

        var description: String {
            switch self {
            case .unsetVariable(let name): "the environment variable \(name) is not set"
            case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
            case .malformed(let reason): reason
            }
        }
    }

    func expand(_ text: String) throws(Failure) -> String {
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.hasPrefix("${") {
                output += "${"
                rest = afterDollar.dropFirst(2)
            } else if afterDollar.hasPrefix("{") {
                guard let close = afterDollar.firstIndex(of: "}") else { throw .malformed("`${` without a closing `}`") }
                output += try resolve(afterDollar[afterDollar.index(after: afterDollar.startIndex)..<close])
                rest = afterDollar[afterDollar.index(after: close)...]
            } else {
                output += "$"
                rest = afterDollar
            }
        }
        return output + rest
    }

    private func resolve(_ reference: Substring) throws(Failure) -> String {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard !name.isEmpty else { throw .malformed("`${env:}` needs a variable name") }
            guard let value = environment(name) else { throw .unsetVariable(name) }
            return value
        }
        if reference.hasPrefix("file:") {
            let path = ConfigPath.resolve(String(reference.dropFirst(5)), against: directory)
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(path) } catch { throw .unreadableFile(path: path, reason: error.reason) }
            var text = String(decoding: bytes, as: UTF8.self)
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
        throw .malformed("`${\(reference)}` is neither ${env:NAME} nor ${file:PATH}")
    }
}
