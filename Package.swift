// swift-tools-version: 6.0
import PackageDescription

// plugboard has no package dependencies: everything below is ours or the toolchain's.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "plugboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "plugboard", targets: ["plugboard"]),
        .executable(name: "plugboard-bench", targets: ["plugboard-bench"]),
    ],
    targets: [
        // Wire formats: know nothing of MCP.
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "TOML", swiftSettings: strict),
        .target(name: "JSONRPC", dependencies: ["JSON"], swiftSettings: strict),
        .target(name: "HTTP", swiftSettings: strict),

        // System support.
        .target(name: "CSystemShims"),
        // The operating system's OpenSSL 3 (libcrypto), linked as a system library: see ARCHITECTURE.md.
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(name: "Cryptography", dependencies: ["COpenSSL"], swiftSettings: strict),
        // TLS sessions over the event loop's non-blocking sockets, by OpenSSL's libssl.
        .target(name: "TLS", dependencies: ["COpenSSL"], swiftSettings: strict),
        .target(name: "Locking", swiftSettings: strict),
        .target(name: "Logging", dependencies: ["JSON", "Locking"], swiftSettings: strict),
        .target(name: "Processes", dependencies: ["CSystemShims", "Locking"], swiftSettings: strict),
        .target(name: "IO", dependencies: ["CSystemShims", "JSONRPC", "Processes", "Locking"], swiftSettings: strict),

        // TCP listeners, HTTP/1.1 server and client connections on the event loop.
        .target(name: "Network", dependencies: ["HTTP", "IO", "JSON", "Logging", "Config", "CSystemShims", "TLS"], swiftSettings: strict),

        // inotify: settled, content-compared change sets of whole directory trees.
        .target(name: "Watcher", dependencies: ["IO", "CSystemShims"], swiftSettings: strict),

        // OAuth 2.1 as MCP authorization's client: discovery, registration, grants, token files.
        .target(name: "Auth", dependencies: ["Config", "Cryptography", "HTTP", "IO", "JSON", "Logging", "Network", "TLS"], swiftSettings: strict),

        // Typed configuration from TOML.
        .target(name: "Config", dependencies: ["TOML", "HTTP"], swiftSettings: strict),

        // JavaScript plugins: Node worker pools, chains, output validation.
        .target(
            name: "Plugins",
            dependencies: ["JSON", "JSONRPC", "Config", "IO", "Logging", "Processes"],
            resources: [.embedInCode("plugin-host.mjs")],
            swiftSettings: strict),

        // The proxy core: sessions, routing, upstream connections.
        .target(
            name: "Proxy",
            dependencies: [
                "Auth", "JSON", "JSONRPC", "Config", "Cryptography", "HTTP", "IO", "Logging", "Network", "Plugins", "Processes", "CSystemShims", "TLS",
            ],
            swiftSettings: strict),

        // Frontends that carry client sessions into the core.
        .target(
            name: "Frontends", dependencies: ["Proxy", "Cryptography", "IO", "Logging", "HTTP", "Network", "JSON", "JSONRPC", "Config", "TLS"],
            swiftSettings: strict),

        // Lifecycle: signals, ordered start/stop.
        .target(
            name: "Supervisor",
            dependencies: [
                "Auth", "Proxy", "Frontends", "Config", "HTTP", "IO", "JSON", "Locking", "Logging", "Network", "Plugins", "Processes", "Watcher",
            ],
            swiftSettings: strict),

        .executableTarget(
            name: "plugboard",
            dependencies: ["Auth", "Supervisor", "Config", "IO", "Logging", "Proxy"],
            swiftSettings: strict),
        .executableTarget(
            name: "plugboard-bench",
            dependencies: ["JSON", "JSONRPC", "Processes"],
            path: "Benchmarks/plugboard-bench",
            swiftSettings: strict),

        .testTarget(name: "JSONTests", dependencies: ["JSON", "JSONRPC"], swiftSettings: strict),
        .testTarget(name: "TOMLTests", dependencies: ["TOML"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], swiftSettings: strict),
        .testTarget(name: "FrontendsTests", dependencies: ["Frontends", "HTTP"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: strict),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "Config", "HTTP", "JSON", "Locking"], swiftSettings: strict),
        .testTarget(name: "ProxyTests", dependencies: ["Proxy", "JSON", "JSONRPC", "Config", "Cryptography", "IO", "Logging"], swiftSettings: strict),
        .testTarget(name: "ProcessesTests", dependencies: ["Processes"], swiftSettings: strict),
        .testTarget(name: "IOTests", dependencies: ["IO"], swiftSettings: strict),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "Config", "IO", "JSON", "Logging", "Network", "Watcher"], swiftSettings: strict),
        .testTarget(name: "WatcherTests", dependencies: ["Watcher", "IO"], swiftSettings: strict),
        .testTarget(name: "PluginsTests", dependencies: ["Plugins", "JSON", "Config", "IO", "Logging", "Processes"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["JSON", "JSONRPC", "Processes"],
            swiftSettings: strict),
    ]
)
