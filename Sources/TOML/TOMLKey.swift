/// One segment of a (possibly dotted) key, with where it was written.
struct KeySegment {
    var name: String
    var location: TOMLLocation
}

/// Renders a key path as it would be written in TOML, quoting segments that are not bare.
func render(_ path: [KeySegment]) -> String {
    path.map { segment in
        let isBare = !segment.name.isEmpty && segment.name.utf8.allSatisfy(isBareKeyByte)
        if isBare { return segment.name }
        var quoted = "\""
        for scalar in segment.name.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }.joined(separator: ".")
}

func isBareKeyByte(_ byte: UInt8) -> Bool {
    isDigit(byte) || isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
}
