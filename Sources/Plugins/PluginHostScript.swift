import Glibc

/// The plugin host program (plugin-host.mjs), compiled into plugboard and written out once to a
/// private runtime directory so `node` can run it; the executable needs nothing beside it.
enum PluginHostScript {
    /// Writes the host if it is not already there with the same contents; returns its path.
    static func materialize() throws(HostScriptError) -> String {
        let bytes = PackageResources.plugin_host_mjs
        let directory = runtimeDirectory()
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw HostScriptError(path: directory, errno: errno)
        }
        let path = "\(directory)/plugin-host-\(fingerprint(bytes)).mjs"
        if access(path, R_OK) == 0 { return path }
        let temporary = "\(path).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HostScriptError(path: temporary, errno: errno) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw HostScriptError(path: path, errno: code)
        }
        return path
    }

    private static func runtimeDirectory() -> String {
        if let runtime = getenv("XDG_RUNTIME_DIR"), access(runtime, W_OK) == 0 {
            return String(cString: runtime) + "/plugboard"
        }
        return "/tmp/plugboard-\(getuid())"
    }

    private static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

public struct HostScriptError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    public var description: String {
        "cannot write the plugin host to \(path): \(String(cString: strerror(errno)))"
    }
}
