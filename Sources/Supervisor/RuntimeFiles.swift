import Glibc

/// Default places for the pid file and the status file of the instance serving one config
/// directory: `$RUNTIME_DIRECTORY` (systemd), else `$XDG_RUNTIME_DIR/plugboard`, else
/// `/tmp/plugboard-UID`; named after the config directory so instances do not collide.
public struct RuntimeFiles {
    public let pidFile: String
    public let statusFile: String

    public init(configDirectory: String) {
        let directory: String
        if let systemd = getenv("RUNTIME_DIRECTORY").map({ String(cString: $0) }), !systemd.isEmpty {
            directory = String(systemd.split(separator: ":").first ?? "")
        } else if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), access(runtime, W_OK) == 0 {
            directory = runtime + "/plugboard"
        } else {
            directory = "/tmp/plugboard-\(getuid())"
        }
        mkdir(directory, 0o700)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in configDirectory.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let name = "plugboard-" + String(hash, radix: 16)
        pidFile = "\(directory)/\(name).pid"
        statusFile = "\(directory)/\(name).status.json"
    }
}
