import Glibc

/// `plugboard plugin new NAME`: a plugin that works, and a `node --test` file that proves it.
public enum PluginScaffold {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `DIR/NAME.mjs` and `DIR/test/NAME.test.mjs`; never overwrites. Returns both paths.
    public static func create(name: String, in directory: String) throws(Failure) -> [String] {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || isalnum(Int32($0)) != 0 }) else {
            throw Failure(description: "a plugin name may contain only A-Z a-z 0-9 _ -, not \"\(name)\"")
        }
        let plugin = "\(directory)/\(name).mjs"
        let test = "\(directory)/test/\(name).test.mjs"
        for path in [plugin, test] where access(path, F_OK) == 0 {
            throw Failure(description: "\(path) already exists; not overwriting it")
        }
        mkdir(directory, 0o755)
        mkdir("\(directory)/test", 0o755)
        try write(pluginSource(name), to: plugin)
        try write(testSource(name), to: test)
        return [plugin, test]
    }

    private static func write(_ text: String, to path: String) throws(Failure) {
        guard let file = fopen(path, "wx") else {
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        fputs(text, file)
    }

    static func pluginSource(_ name: String) -> String {
        """
        // \(name): a plugboard plugin. Contract: docs/plugins.md.
        //
        // Attach it to a server in etc/plugboard.toml:
        //   [[servers.NAME.plugins.response]]
        //   plugin = "\(name)"
        //   tools = ["*"]
        //   config = { suffix = " (seen by \(name))" }
        //
        // Try it without a client:  plugboard plugin run plugins.d/\(name).mjs --input sample.json
        // Test it:                  node --test plugins.d/test/\(name).test.mjs

        /** Called once per distinct `config` table before the first call that carries it. */
        export function init(config) {
          if (config.suffix !== undefined && typeof config.suffix !== "string") {
            throw new Error("config.suffix must be a string");
          }
        }

        /** Request phase: return null to pass the call on, { arguments } to rewrite it, { block: { reason } } to refuse it. */
        export function request(input) {
          return null;
        }

        /** Response phase: `input.rawContent` is the result's text; return { text } to replace it, or null. */
        export function response(input) {
          if (!input.rawContent) return null;
          return { text: input.rawContent + (input.config.suffix ?? ""), metadata: { plugin: "\(name)" } };
        }

        """
    }

    static func testSource(_ name: String) -> String {
        """
        // Tests for \(name).mjs: run with `node --test plugins.d/test/\(name).test.mjs`.
        import { test } from "node:test";
        import assert from "node:assert/strict";
        import * as plugin from "../\(name).mjs";

        const input = (overrides = {}) => ({
          toolName: "echo",
          rawContent: "hello",
          maxTokens: null,
          metadata: { requestId: "test-1", timestamp: new Date().toISOString(), serverName: "demo", phase: "response", userQuery: null },
          method: "tools/call",
          arguments: { text: "hello" },
          result: { content: [{ type: "text", text: "hello" }] },
          config: { suffix: "!" },
          ...overrides,
        });

        test("the response gets the configured suffix", () => {
          assert.deepEqual(plugin.response(input()), { text: "hello!", metadata: { plugin: "\(name)" } });
        });

        test("an empty result is left alone", () => {
          assert.equal(plugin.response(input({ rawContent: "" })), null);
        });

        test("requests pass through unchanged", () => {
          assert.equal(plugin.request(input({ metadata: { phase: "request" } })), null);
        });

        test("a suffix that is not a string is refused at init", () => {
          assert.throws(() => plugin.init({ suffix: 5 }), /must be a string/);
        });

        """
    }
}
