// libFuzzer entry point: the JSON parser never crashes, and whatever it accepts survives a
// round trip (serialize, parse again, equal value; serialize again, same bytes).
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(input, options: .init(maxDepth: 64)) else { return 0 }
    let text = value.serialized()
    guard let again = try? JSONParser.parse(text, options: .init(maxDepth: 64)) else {
        fatalError("serialized output does not parse: \(String(decoding: text.prefix(200), as: UTF8.self))")
    }
    guard again == value, again.serialized() == text else { fatalError("round trip changed the value") }
    return 0
}
