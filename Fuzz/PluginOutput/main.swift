// libFuzzer entry point: whatever JSON a plugin prints, the output validator answers with a
// valid output or a reason, in both phases, and never crashes.
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(input, options: .init(maxDepth: 64)) else { return 0 }
    for phase in [PluginPhase.request, .response] {
        switch PluginOutput.validate(value, phase: phase) {
        case .success(let output):
            if case .arguments = output.change, phase == .response { fatalError("arguments accepted in the response phase") }
        case .failure: break
        }
    }
    return 0
}
