import TOML

/// Decodes `[[servers.NAME.plugins.request]]` and `.response` entries, checking each plugin file exists.
struct PluginChainDecoder {
    let pluginsDirectory: String
    let log: ConfigErrorLog

    static let supportedMethods = ["tools/call", "tools/list", "resources/read", "prompts/get"]

    func decode(_ plugins: TOMLTable, server: String) -> PluginChains {
        let reader = TableReader(table: plugins, name: "[servers.\(server).plugins]", log: log)
        reader.rejectUnknownKeys(known: ["request", "response"])
        return PluginChains(
            request: decodeChain(reader, "request", server: server),
            response: decodeChain(reader, "response", server: server))
    }

    private func decodeChain(_ reader: TableReader, _ phase: String, server: String) -> [PluginChainEntry] {
        guard let entry = reader.entry(phase) else { return [] }
        let header = "[[servers.\(server).plugins.\(phase)]]"
        guard let array = entry.value.arrayValue else {
            log.add("`\(phase)` must be an array of tables (\(header)), found \(entry.value.typeName)", at: entry.valueLocation)
            return []
        }
        var chain: [PluginChainEntry] = []
        for (index, element) in array.enumerated() {
            guard let table = element.tableValue else {
                log.add("`\(phase)` must be an array of tables (\(header)), found \(element.typeName) at element \(index + 1)", at: array.location(at: index))
                continue
            }
            if let decoded = decodeEntry(table, header: header) { chain.append(decoded) }
        }
        return chain
    }

    private func decodeEntry(_ table: TOMLTable, header: String) -> PluginChainEntry? {
        let reader = TableReader(table: table, name: header, log: log)
        reader.rejectUnknownKeys(known: ["plugin", "tools", "methods", "config", "mode", "on_error", "timeout"])
        guard let plugin = reader.string("plugin") else {
            if reader.entry("plugin") == nil {
                log.add("\(header) needs `plugin`, the name of a .js or .mjs file in \(pluginsDirectory)", at: table.location)
            }
            return nil
        }
        let pluginLocation = reader.entry("plugin")?.valueLocation
        guard !plugin.isEmpty, !plugin.contains("/") else {
            log.add("`plugin` must be a file name without `/` (the file lives in \(pluginsDirectory)), found \"\(plugin)\"", at: pluginLocation)
            return nil
        }
        let base = pluginsDirectory + "/" + plugin
        if !FileSystem.isRegularFile(base + ".js") && !FileSystem.isRegularFile(base + ".mjs") {
            log.add("plugin \"\(plugin)\" not found: expected \(base).js or \(base).mjs", at: pluginLocation)
        }
        let methods = reader.stringArray("methods") ?? ["tools/call"]
        for (index, method) in methods.enumerated() where !Self.supportedMethods.contains(method) {
            let supported = Self.supportedMethods.map { "\"\($0)\"" }.joined(separator: ", ")
            log.add("`methods` may contain only \(supported), found \"\(method)\"", at: reader.entry("methods")?.value.arrayValue?.location(at: index))
        }
        let configJSON = reader.subtable("config").map { JSONText.encode(.table($0)) } ?? "{}"
        return PluginChainEntry(
            plugin: plugin, tools: reader.globArray("tools") ?? [], methods: methods,
            configJSON: configJSON, location: table.location.description,
            mode: reader.choice("mode", of: PluginChainEntry.Mode.self) ?? .pool,
            onError: reader.choice("on_error", of: PluginChainEntry.FailurePolicy.self) ?? .fail,
            timeout: reader.duration("timeout"))
    }
}
