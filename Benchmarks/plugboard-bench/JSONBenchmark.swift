import Foundation
import JSON
import JSONRPC

/// Times the JSON hot paths (full parse + serialize, envelope scan + id rewrite) on a
/// 50 KB MCP tool result and a ~150-byte tools/call request, beside Foundation's
/// JSONSerialization, and prints median and p99 per operation.
func runJSONBenchmark() {
    let large = JSONBenchmark.toolResult(textBytes: 50_000)
    let small = Array(
        #"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_files","arguments":{"query":"plugboard json","limit":10}}}"#
            .utf8)
    let newID = Array("100001".utf8)
    var rows: [JSONBenchmark.Row] = []
    var sink = 0

    for (label, message, target) in [("50 KB tool result", large, 300.0), ("\(small.count) B tools/call", small, 5.0)] {
        let inner = message.count > 10_000 ? 1 : 100
        rows.append(JSONBenchmark.measure("parse + serialize, \(label)", target: target, inner: inner, sink: &sink) {
            guard let value = try? JSONParser.parse(message) else { fatalError("benchmark input must parse") }
            return value.serialized().count
        })
    }
    for (label, message, target) in [("50 KB tool result", large, 50.0), ("\(small.count) B tools/call", small, 5.0)] {
        let inner = message.count > 10_000 ? 1 : 100
        rows.append(JSONBenchmark.measure("scan + id rewrite, \(label)", target: target, inner: inner, sink: &sink) {
            guard let envelope = try? JSONRPCEnvelope.scan(message),
                let rewritten = envelope.replacingID(in: message, with: newID)
            else { fatalError("benchmark input must scan") }
            return rewritten.count
        })
    }
    for (label, message) in [("50 KB tool result", large), ("\(small.count) B tools/call", small)] {
        let data = Data(message)
        let inner = message.count > 10_000 ? 1 : 20
        rows.append(JSONBenchmark.measure("Foundation parse + serialize, \(label)", target: nil, inner: inner, samples: 500, sink: &sink) {
            guard let object = try? JSONSerialization.jsonObject(with: data),
                let out = try? JSONSerialization.data(withJSONObject: object)
            else { fatalError("Foundation must handle the benchmark input") }
            return out.count
        })
    }

    print("JSON benchmark (\(large.count)-byte result, \(small.count)-byte request; µs per operation)")
    let nameWidth = rows.map(\.name.count).max() ?? 0
    print(JSONBenchmark.pad("operation", nameWidth) + "    median       p99    target")
    for row in rows {
        let target = row.target.map { (row.median <= $0 ? "< " : "MISSED ") + JSONBenchmark.format($0) } ?? "-"
        print(JSONBenchmark.pad(row.name, nameWidth) + JSONBenchmark.padLeft(JSONBenchmark.format(row.median), 10)
            + JSONBenchmark.padLeft(JSONBenchmark.format(row.p99), 10) + "    " + target)
    }
    print("(checksum \(sink))")
}

private enum JSONBenchmark {
    struct Row {
        var name: String
        var median: Double
        var p99: Double
        var target: Double?
    }

    /// `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":…}]}}` with
    /// text of about `textBytes` UTF-8 bytes, including escapes and non-ASCII.
    static func toolResult(textBytes: Int) -> [UInt8] {
        let pieces = [
            "The quick brown fox jumps over the lazy dog. ", "Line with a \"quote\" and a \\ backslash.\n",
            "café naïve résumé — ", "中文字符测试 ", "emoji 😀🎉 ", "\ttabbed\tcolumns\n", "path/to/file.swift:42 ",
        ]
        var text = ""
        var i = 0
        while text.utf8.count < textBytes {
            text += pieces[i % pieces.count]
            i += 1
        }
        let value: JSONValue = [
            "jsonrpc": "2.0", "id": 7,
            "result": ["content": [["type": "text", "text": .string(text)]], "isError": false],
        ]
        return value.serialized()
    }

    static func measure(
        _ name: String, target: Double?, inner: Int, samples: Int = 2_000, sink: inout Int, _ body: () -> Int
    ) -> Row {
        for _ in 0..<max(10, samples / 10) { sink &+= body() }
        var perOperation: [Double] = []
        perOperation.reserveCapacity(samples)
        for _ in 0..<samples {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<inner { sink &+= body() }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            perOperation.append(Double(elapsed) / Double(inner) / 1_000)
        }
        perOperation.sort()
        let median = perOperation[perOperation.count / 2]
        let p99 = perOperation[min(perOperation.count - 1, perOperation.count * 99 / 100)]
        return Row(name: name, median: median, p99: p99, target: target)
    }

    static func format(_ microseconds: Double) -> String {
        microseconds < 10 ? String(format: "%.2f", microseconds) : String(format: "%.1f", microseconds)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
