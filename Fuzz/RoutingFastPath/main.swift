// libFuzzer entry point: the routing fast path (`JSONRPCEnvelope.scan`) agrees with the full
// parser on every input: the same inputs are valid JSON, and on valid messages the same
// method and id come out, with the recorded id bytes exactly the id's text.
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let options = JSONParser.Options(maxDepth: 64)
    let parsed = try? JSONParser.parse(input, options: options)
    do {
        let envelope = try JSONRPCEnvelope.scan(input, options: options)
        guard let message = parsed?.objectValue else { fatalError("scan accepted what the parser rejects") }
        guard envelope.method == message["method"]?.stringValue else { fatalError("method differs") }
        if let id = envelope.id {
            guard JSONRPCID(jsonValue: message["id"] ?? .null) == id else { fatalError("id differs") }
            guard let range = envelope.idRange, (try? JSONParser.parse(Array(input[range]))) == message["id"] else {
                fatalError("id range does not hold the id")
            }
        }
        if let replaced = envelope.replacingID(in: input, with: Array("\"x\"".utf8)) {
            guard var expected = parsed?.objectValue, let reparsed = try? JSONParser.parse(replaced, options: options) else {
                fatalError("id replacement broke the message")
            }
            expected["id"] = .string("x")
            guard reparsed == .object(expected) else { fatalError("id replacement changed more than the id") }
        }
    } catch .parseError {
        guard parsed == nil else { fatalError("scan called valid JSON a parse error") }
    } catch {
        guard parsed != nil else { fatalError("scan called invalid JSON merely an invalid request") }
    }
    return 0
}
