import Foundation

/// The shared toml-test cases, used in place from `../shared/toml-test` beside the package root.
enum TOMLTestSuite {
    static let root: String = {
        // Tests/TOMLTests/TOMLTestSuite.swift → package root → ../shared/toml-test
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/toml-test").standardizedFileURL.path
    }()

    static var listPath: String { root + "/tests/files-toml-1.0.0" }

    static let isPresent: Bool = {
        let present = FileManager.default.fileExists(atPath: listPath)
        if !present { print("toml-test suite not found at \(root), skipping the conformance tests") }
        return present
    }()

    static let listedFiles: [String] = {
        guard let data = FileManager.default.contents(atPath: listPath) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }()

    /// Valid cases, as paths relative to `tests/` without the `.toml` extension.
    static var validCases: [String] {
        listedFiles.filter { $0.hasPrefix("valid/") && $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }
    }

    static var invalidCases: [String] {
        listedFiles.filter { $0.hasPrefix("invalid/") && $0.hasSuffix(".toml") }
    }

    static func bytes(of relativePath: String) -> [UInt8]? {
        FileManager.default.contents(atPath: root + "/tests/" + relativePath).map { [UInt8]($0) }
    }
}
