import Foundation
import TOML

/// A value in toml-test's tagged JSON form, rendered canonically so parsed and expected values compare as text.
enum TaggedValue {
    /// Renders a parsed TOML value.
    static func render(_ value: TOMLValue) -> String {
        switch value {
        case .string(let text): return "string:" + text.debugDescription
        case .integer(let number): return "integer:\(number)"
        case .float(let number): return "float:" + render(number)
        case .boolean(let flag): return "bool:\(flag)"
        case .offsetDateTime(let dateTime): return "datetime:" + normalizeDateTime(dateTime.description)
        case .localDateTime(let dateTime): return "datetime-local:" + normalizeDateTime(dateTime.description)
        case .localDate(let date): return "date-local:" + normalizeDateTime(date.description)
        case .localTime(let time): return "time-local:" + normalizeDateTime(time.description)
        case .array(let array): return "[" + array.map(render).joined(separator: ", ") + "]"
        case .table(let table): return render(table)
        }
    }

    static func render(_ table: TOMLTable) -> String {
        let pairs = table.entries.sorted { $0.key < $1.key }.map { $0.key.debugDescription + ": " + render($0.value) }
        return "{" + pairs.joined(separator: ", ") + "}"
    }

    /// Renders the expected value decoded from toml-test's JSON.
    static func render(json: Any) -> String {
        if let array = json as? [Any] {
            return "[" + array.map { render(json: $0) }.joined(separator: ", ") + "]"
        }
        guard let object = json as? [String: Any] else { return "?unexpected JSON \(json)" }
        if object.count == 2, let type = object["type"] as? String, let value = object["value"] as? String {
            switch type {
            case "string": return "string:" + value.debugDescription
            case "integer": return "integer:" + (Int64(value).map(String.init) ?? "?" + value)
            case "float": return "float:" + (Double(value).map(render) ?? "?" + value)
            case "bool": return "bool:" + value
            default: return type + ":" + normalizeDateTime(value)
            }
        }
        let pairs = object.keys.sorted().map { $0.debugDescription + ": " + render(json: object[$0]!) }
        return "{" + pairs.joined(separator: ", ") + "}"
    }

    private static func render(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number == 0 { return "0" }  // toml-test treats -0.0 and 0.0 as equal
        return "\(number)"
    }

    /// Upper-case `T`/`Z`, `T` between date and time, no trailing zeros in fractions, `Z` for a zero offset.
    static func normalizeDateTime(_ text: String) -> String {
        var result = text.uppercased()
        if result.count > 10 && result[result.index(result.startIndex, offsetBy: 10)] == " " {
            result.replaceSubrange(result.index(result.startIndex, offsetBy: 10)...result.index(result.startIndex, offsetBy: 10), with: "T")
        }
        if result.hasSuffix("+00:00") || result.hasSuffix("-00:00") { result = String(result.dropLast(6)) + "Z" }
        if let dot = result.firstIndex(of: ".") {
            let digitsEnd = result[result.index(after: dot)...].firstIndex { !$0.isNumber } ?? result.endIndex
            var digits = result[result.index(after: dot)..<digitsEnd]
            while digits.last == "0" { digits = digits.dropLast() }
            result = String(result[..<dot]) + (digits.isEmpty ? "" : "." + digits) + String(result[digitsEnd...])
        }
        return result
    }
}
