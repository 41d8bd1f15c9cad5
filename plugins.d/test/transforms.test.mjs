// paths.mjs, audit.mjs and enrich.mjs called directly with constructed inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import paths from "../paths.mjs";
import audit from "../audit.mjs";
import enrich from "../enrich.mjs";

const ALLOWED_KEYS = new Set(["text", "continue", "metadata", "error", "arguments", "result", "block", "state", "context"]);
const scratch = mkdtempSync(join(tmpdir(), "transforms-test-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

function valid(output, phase) {
  if (output === null) return output;
  for (const key of Object.keys(output)) assert.ok(ALLOWED_KEYS.has(key), `unexpected output field ${key}`);
  assert.ok(["text", "arguments", "result", "block"].filter((k) => output[k] != null).length <= 1);
  if (phase === "request") assert.equal(output.result, undefined);
  if (phase === "response") assert.equal(output.arguments, undefined);
  assert.doesNotThrow(() => JSON.stringify(output));
  return output;
}

function input(phase, { id = "r1", result, args = {}, config = {}, method = "tools/call", timestamp = new Date().toISOString(), state = null } = {}) {
  const texts = (result?.content ?? []).filter((b) => b.type === "text").map((b) => b.text).join("\n");
  const value = {
    toolName: method === "tools/call" ? "read_file" : null,
    rawContent: phase === "request" ? JSON.stringify(args) : texts,
    maxTokens: null,
    metadata: { requestId: id, timestamp, serverName: "demo", phase, userQuery: null },
    method,
    arguments: args,
    config,
    context: {},
  };
  if (phase === "response") value.state = state;
  if (result !== undefined) value.result = result;
  return value;
}

const MAP = { map: { "/workspace": "/home/me/project", "/workspace/vendor/": "/opt/vendor", "/data": "/" } };
const respond = (result, config = MAP, method) => valid(paths.response(input("response", { result, config, method })), "response");

test("paths: prefixes are rewritten at path boundaries only, longest first", () => {
  const text = [
    "/workspace", "/workspace/src/a.ts", "/workspace/vendor/lib.js", "/workspaces/other", "/workspace2",
    "/x/workspace/y", "file:///workspace/README.md", "(at /workspace/b.ts:3:4)", "\"/workspace/q\"",
    "see /workspace.", "/workspace.bak", "/data/x", "/data", "/datax", "~/workspace/z",
  ].join(" | ");
  const out = respond({ content: [{ type: "text", text }] });
  assert.equal(out.result.content[0].text, [
    "/home/me/project", "/home/me/project/src/a.ts", "/opt/vendor/lib.js", "/workspaces/other", "/workspace2",
    "/x/workspace/y", "file:///home/me/project/README.md", "(at /home/me/project/b.ts:3:4)", "\"/home/me/project/q\"",
    "see /home/me/project.", "/workspace.bak", "/x", "/", "/datax", "~/workspace/z",
  ].join(" | "));
  assert.equal(out.metadata.rewritten, 9);
});

test("paths: walks structuredContent, resource URIs and nested values; binary blocks untouched", () => {
  const image = { type: "image", data: "L3dvcmtzcGFjZQ==/workspace/x", mimeType: "image/png" };
  const result = {
    content: [
      { type: "resource_link", uri: "file:///workspace/a.txt", name: "a" },
      { type: "resource", resource: { uri: "file:///workspace/b.txt", text: "in /workspace/b.txt", mimeType: "text/plain" } },
      image,
    ],
    structuredContent: { files: [{ path: "/workspace/a.txt", size: 10 }, { path: "/elsewhere" }], deep: { deeper: ["/data/y"] } },
  };
  const out = respond(result);
  assert.equal(out.result.content[0].uri, "file:///home/me/project/a.txt");
  assert.equal(out.result.content[1].resource.uri, "file:///home/me/project/b.txt");
  assert.equal(out.result.content[1].resource.text, "in /home/me/project/b.txt");
  assert.deepEqual(out.result.content[2], image);
  assert.deepEqual(out.result.structuredContent, { files: [{ path: "/home/me/project/a.txt", size: 10 }, { path: "/elsewhere" }], deep: { deeper: ["/y"] } });
  assert.equal(result.structuredContent.files[0].path, "/workspace/a.txt", "the input is not mutated");
  const resources = respond({ contents: [{ uri: "file:///workspace/c", text: "/workspace/c" }, { uri: "file:///workspace/d", blob: "AAAA" }] }, MAP, "resources/read");
  assert.deepEqual(resources.result.contents, [{ uri: "file:///home/me/project/c", text: "/home/me/project/c" }, { uri: "file:///home/me/project/d", blob: "AAAA" }]);
});

test("paths: JSON text is rewritten on decoded values, keeping layout, keys and big numbers", () => {
  const config = { map: { "/workspace": "C:\\Users\\me \"q\"" } };
  const text = '{\n  "/workspace/key": "/workspace/v",\n  "id": 123456789012345678901234567890,\n  "esc": "\\/workspace\\/e",\n  "list": [ "/workspace" ]\n}';
  const out = respond({ content: [{ type: "text", text }] }, config);
  const rewritten = out.result.content[0].text;
  assert.equal(rewritten, '{\n  "/workspace/key": "C:\\\\Users\\\\me \\"q\\"/v",\n  "id": 123456789012345678901234567890,\n  "esc": "C:\\\\Users\\\\me \\"q\\"/e",\n  "list": [ "C:\\\\Users\\\\me \\"q\\"" ]\n}');
  assert.deepEqual(JSON.parse(rewritten).list, ['C:\\Users\\me "q"'], "still valid JSON after a value needing escapes");
  assert.equal(respond({ content: [{ type: "text", text: "{not json /workspace" }] }, config).result.content[0].text, 'C:\\Users\\me "q"'.replace(/^/, "{not json "));
});

test("paths: reverse mapping of arguments; nothing to do gives null", () => {
  const config = { ...MAP, map: { "/workspace": "/home/me/project" }, reverse: true };
  const out = valid(paths.request(input("request", { args: { path: "/home/me/project/src", n: 1, list: ["/home/me/projects"] }, config })), "request");
  assert.deepEqual(out.arguments, { path: "/workspace/src", n: 1, list: ["/home/me/projects"] });
  assert.equal(paths.request(input("request", { args: { path: "/home/me/project" }, config: MAP })), null, "no reverse unless asked");
  assert.equal(respond({ content: [{ type: "text", text: "nothing here" }] }), null);
  assert.equal(respond({ content: [] }), null);
  assert.equal(respond({}), null);
});

test("paths: config errors, adversarial sizes, lone surrogates", () => {
  assert.throws(() => paths.init({ map: { relative: "/x" } }), /absolute path/);
  assert.throws(() => paths.init({ map: { "/": "/x" } }), /other than "\/"/);
  assert.throws(() => paths.init({ mapping: {} }), /unknown key "mapping"/);
  assert.throws(() => paths.init({ map: { "/a": "/h", "/b": "/h" }, reverse: true }), /ambiguous/);
  const big = "/workspace/file.txt ".repeat(105_000); // ~2 MB
  const started = performance.now();
  const out = respond({ content: [{ type: "text", text: big }] });
  assert.equal(out.metadata.rewritten, 105_000);
  assert.ok(performance.now() - started < 3000);
  assert.equal(respond({ content: [{ type: "text", text: "\uD800/workspace/a\uDFFF" }] }).result.content[0].text, "\uD800/home/me/project/a\uDFFF");
  let deep = "/workspace";
  for (let i = 0; i < 1500; i += 1) deep = [deep];
  assert.match(respond({ structuredContent: { deep } }).error, /left unchanged/);
});

test("audit: one JSON line per call with duration, sizes and outcome", () => {
  const file = join(scratch, "calls.jsonl");
  const config = { file };
  audit.init(config);
  const start = new Date(Date.now() - 250).toISOString();
  const { state } = valid(audit.request(input("request", { id: "a1", args: { path: "/x" }, config, timestamp: start })), "request");
  assert.ok(JSON.stringify(state).length < 200, "the state handed across phases is small");
  const result = { content: [{ type: "text", text: "héllo" }], isError: true };
  assert.equal(audit.response(input("response", { id: "a1", args: { path: "/x" }, result, config, state })), null);
  // No request phase ran (the request chain has no audit entry): still one line, without a duration.
  assert.equal(audit.response(input("response", { id: "a2", result: { content: [] }, config, method: "tools/call" })), null);
  const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]), ["ts", "server", "tool", "method", "durationMs", "requestBytes", "responseBytes", "outcome"]);
  assert.equal(lines[0].server, "demo");
  assert.equal(lines[0].tool, "read_file");
  assert.equal(lines[0].method, "tools/call");
  assert.ok(lines[0].durationMs >= 250 && lines[0].durationMs < 5000, `${lines[0].durationMs}`);
  assert.equal(lines[0].requestBytes, Buffer.byteLength('{"path":"/x"}'));
  assert.equal(lines[0].responseBytes, Buffer.byteLength(JSON.stringify(result)));
  assert.equal(lines[0].outcome, "error");
  assert.equal(lines[1].durationMs, null);
  assert.equal(lines[1].outcome, "ok");
  assert.equal(lines[1].requestBytes, 2);
});

test("audit: an unwritable file is a soft error; the default file is under the cwd", () => {
  const out = valid(audit.response(input("response", { result: { content: [] }, config: { file: join(scratch, "missing-dir", "x.jsonl") } })), "response");
  assert.match(out.error, /cannot append.*ENOENT/);
  const cwd = process.cwd();
  process.chdir(scratch);
  try {
    audit.response(input("response", { result: { content: [{ type: "text", text: "\uD800" }] } }));
    assert.ok(existsSync(join(scratch, "plugboard-audit.jsonl")));
  } finally {
    process.chdir(cwd);
  }
});

test("enrich: sizes, token estimate, block counts and duration", () => {
  const png = Buffer.alloc(3000, 7).toString("base64");
  const result = {
    content: [
      { type: "text", text: "hello" }, { type: "text", text: "wörld" },
      { type: "image", data: png, mimeType: "image/png" }, { type: "audio", data: "AAAA", mimeType: "audio/wav" },
    ],
  };
  const { state } = valid(enrich.request(input("request", { id: "e1", timestamp: new Date(Date.now() - 100).toISOString() })), "request");
  const out = valid(enrich.response(input("response", { id: "e1", result, state })), "response");
  const raw = "hello\nwörld";
  assert.deepEqual(Object.keys(out), ["metadata"]);
  assert.equal(out.metadata.bytes, Buffer.byteLength(JSON.stringify(result)));
  assert.equal(out.metadata.textBytes, Buffer.byteLength(raw));
  assert.equal(out.metadata.estimatedTokens, Math.ceil(raw.length / 4));
  assert.deepEqual(out.metadata.blocks, { text: 2, image: 1, audio: 1 });
  assert.ok(out.metadata.durationMs >= 100);

  const empty = valid(enrich.response(input("response", { id: "e2", result: { content: [] } })), "response");
  assert.deepEqual(empty.metadata, { bytes: 14, textBytes: 0, estimatedTokens: 0, blocks: {} });
  const lone = valid(enrich.response(input("response", { id: "e3", result: { content: [{ type: "text", text: "\uD800" }] } })), "response");
  assert.equal(lone.metadata.textBytes, 3, "a lone surrogate counts as U+FFFD");
  const resources = valid(enrich.response(input("response", { method: "resources/read", result: { contents: [{ uri: "a", text: "x" }, { uri: "b", blob: "AA" }] } })), "response");
  assert.deepEqual(resources.metadata.blocks, { text: 1, blob: 1 });
  const big = "x".repeat(2 * 1024 * 1024);
  const huge = valid(enrich.response(input("response", { result: { content: [{ type: "text", text: big }] } })), "response");
  assert.equal(huge.metadata.estimatedTokens, 524_288);
});
