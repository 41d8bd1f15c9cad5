#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TOML

/// Loads and validates plugboard's configuration directory.
public enum ConfigLoader {
    /// Reads `DIR/plugboard.toml` and then every `DIR/conf.d/*.toml` in lexical order, merged into one configuration.
    ///
    /// Every problem found is reported at once, each with its `file:line:col` when it has one.
    /// File names in messages start with `directory` as given.
    /// `environment` answers `${env:NAME}` references and the proxy variables (the process's own by default).
    public static func load(directory: String, environment: @escaping (String) -> String? = ProcessVariables.value) throws(ConfigErrors) -> PlugboardConfig {
        let log = ConfigErrorLog()
        let mainFile = join(directory, "plugboard.toml")
        let files = [mainFile] + fragmentFiles(in: join(directory, "conf.d"))
        var merged: TOMLTable? = nil
        for file in files {
            guard let table = parse(file, log: log) else { continue }
            if merged == nil {
                merged = table
            } else {
                FragmentMerger.merge(table, into: &merged!, log: log)
            }
        }
        guard let root = merged, log.isEmpty else {
            throw ConfigErrors(log.sorted(fileOrder: files))
        }
        let config = ConfigDecoder(root: root, directory: ConfigPath.absolute(directory), mainFile: mainFile, log: log, environment: environment).decode()
        guard log.isEmpty else { throw ConfigErrors(log.sorted(fileOrder: files)) }
        return config
    }

    /// The absolute path `load` names the directory by (`PlugboardConfig.directory`), without
    /// reading it: for commands that only need to find the instance serving it.
    public static func absoluteDirectory(_ directory: String) -> String {
        ConfigPath.absolute(directory)
    }

    private static func parse(_ file: String, log: ConfigErrorLog) -> TOMLTable? {
        do {
            let bytes = try FileSystem.readFile(file)
            return try TOMLParser.parse(bytes: bytes, file: file)
        } catch let error as FileSystem.ReadError {
            log.add("cannot read \(error.path): \(error.reason)")
        } catch let error as TOMLError {
            log.add(error.message, at: error.location)
        } catch {
            log.add("\(file): \(error)")
        }
        return nil
    }

    private static func fragmentFiles(in directory: String) -> [String] {
        let names = FileSystem.directoryEntries(directory) ?? []
        return names
            .filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }
            // Byte order, so "10-a" sorts before "9-b" the same way `ls` does in the C locale.
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { join(directory, $0) }
            .filter(FileSystem.isRegularFile)
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// The process's environment variables.
public enum ProcessVariables {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
