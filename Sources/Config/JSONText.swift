import TOML

/// Writes a TOML value as JSON text, for handing plugin `config` tables to JavaScript.
///
/// Date-times become their RFC 3339 strings; `nan` and `inf`, which JSON cannot
/// express, become `null`.
enum JSONText {
    static func encode(_ value: TOMLValue) -> String {
        var output = ""
        write(value, to: &output)
        return output
    }

    private static func write(_ value: TOMLValue, to output: inout String) {
        switch value {
        case .string(let text): writeString(text, to: &output)
        case .integer(let number): output += String(number)
        case .float(let number): output += number.isFinite ? "\(number)" : "null"
        case .boolean(let flag): output += flag ? "true" : "false"
        case .offsetDateTime(let dateTime): writeString(dateTime.description, to: &output)
        case .localDateTime(let dateTime): writeString(dateTime.description, to: &output)
        case .localDate(let date): writeString(date.description, to: &output)
        case .localTime(let time): writeString(time.description, to: &output)
        case .array(let array):
            output += "["
            for (index, element) in array.enumerated() {
                if index > 0 { output += "," }
                write(element, to: &output)
            }
            output += "]"
        case .table(let table):
            output += "{"
            for (index, entry) in table.entries.enumerated() {
                if index > 0 { output += "," }
                writeString(entry.key, to: &output)
                output += ":"
                write(entry.value, to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            // U+2028 and U+2029 are valid JSON but end lines in older JavaScript; escaping them is always safe.
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
