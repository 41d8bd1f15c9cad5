import Glibc

/// The descriptors this process has open, from /proc/self/fd: for leak tests and status dumps.
public enum DescriptorCensus {
    /// Open descriptor numbers in ascending order (excluding the one used to list them).
    public static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var result: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let number = Int32(name), number != own { result.append(number) }
        }
        return result.sorted()
    }
}
