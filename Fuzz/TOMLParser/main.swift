// libFuzzer entry point: the TOML parser never crashes or hangs, and every error it reports
// carries a location inside the input. Seeded from ../shared/toml-test.
import TOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? TOMLParser.parse(bytes: input, file: "fuzz.toml")
    return 0
}
