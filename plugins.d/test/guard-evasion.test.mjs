// guard against evasion: paths disguised by encoding, Unicode, separators and dot segments;
// tool names in another case; secrets cut across arguments, base64-encoded, nested, or used
// as object keys. Run: node --test plugins.d/test/guard-evasion.test.mjs
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import guard from "../guard.mjs";
import { redactSecrets } from "../lib/guard/secrets.mjs";

const scratch = mkdtempSync(join(tmpdir(), "guard-evasion-"));
const auditFile = join(scratch, "audit.jsonl");
const root = join(scratch, "root");
mkdirSync(join(root, "sub"), { recursive: true });
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function request({ tool = "read_file", args = {}, config = {} } = {}) {
  return guard.request({
    toolName: tool,
    rawContent: JSON.stringify(args),
    maxTokens: null,
    metadata: { requestId: `e${++counter}`, timestamp: new Date().toISOString(), serverName: "demo", phase: "request", userQuery: null },
    method: "tools/call",
    arguments: args,
    config: { audit_file: auditFile, ...config },
  });
}

function response(result, config = {}) {
  return guard.response({
    toolName: "read_file",
    rawContent: "",
    maxTokens: null,
    metadata: { requestId: `e${++counter}`, timestamp: new Date().toISOString(), serverName: "demo", phase: "response", userQuery: null },
    method: "tools/call",
    arguments: {},
    result,
    config: { audit_file: auditFile, ...config },
  });
}

// Fake credentials of real shapes.
const ANTHROPIC = "sk-ant-api03-" + "Qw3-".repeat(10);
const AWS = "AKIAIOSFODNN7EXAMPLE";
const GITHUB = "ghp_" + "a1B2".repeat(9);

describe("paths: encodings and tricks that would leave the prefix", () => {
  const paths = { rules: { "*": { path: { pathPrefix: [root] } } } };
  const refused = (path) => request({ args: { path }, config: paths })?.block?.reason;

  test("plain and file: URL dot-dot forms are refused", () => {
    for (const path of [`${root}/../etc/passwd`, `${root}/sub/../../etc`, `${root}\\..\\..\\etc`, `${root}/..\\x`, "../etc/passwd",
      `file://${root}/%2e%2e/etc/passwd`, `file://${root}/sub/..%2f..%2fetc`]) {
      assert.ok(refused(path), `not refused: ${path}`);
    }
  });

  test("percent-encoded dots, slashes and NUL are refused (a server may decode them)", () => {
    for (const path of [`${root}/%2e%2e/etc/passwd`, `${root}/..%2fetc`, `${root}/%2E%2E%2Fetc`, `${root}/%252e%252e/etc`,
      `${root}/x%00.txt`, `${root}/%5c..%5cetc`, `%2e%2e/%2e%2e/etc/passwd`]) {
      assert.match(refused(path) ?? "", /percent-encoded|\.\./, `not refused: ${path}`);
    }
  });

  test("overlong UTF-8 and Unicode look-alike dots are refused", () => {
    for (const path of [`${root}/%c0%ae%c0%ae/etc`, `${root}/%e0%80%ae%e0%80%ae/etc`, `${root}/\uff0e\uff0e/etc`,
      `${root}/\u2024\u2024/etc`, `${root}/..\uff0fetc`, `${root}/\uff0e\uff0e\uff0fetc`]) {
      assert.ok(refused(path), `not refused: ${JSON.stringify(path)}`);
    }
  });

  test("//, /./ and trailing slashes normalise, inside or outside", () => {
    for (const path of [`${root}/sub/`, `${root}//sub//file`, `${root}/./sub/./file`, `${root}/`, `${root}`, "sub/./x"]) {
      assert.equal(refused(path), undefined, `refused: ${path}`);
    }
    for (const path of [`/${root}-evil/x`, `${root}-old/`, "//etc/passwd", "/./etc/passwd", "/etc/", `${root.slice(0, -1)}`]) {
      assert.ok(refused(path), `not refused: ${path}`);
    }
  });

  test("a percent sign that decodes to nothing dangerous is still allowed", () => {
    assert.equal(refused(`${root}/100%25 done.txt`), undefined);
    assert.equal(refused(`${root}/caf\u00e9.txt`), undefined);
  });
});

describe("tool names: case", () => {
  // MCP tool names are case-sensitive: `CRASH` is another tool than `crash`, and an upstream
  // that has no `CRASH` answers "unknown tool". So by default globs match exactly, and an
  // upstream that resolves names case-insensitively is covered by tools.case_insensitive.
  test("by default a deny glob matches the exact case only", () => {
    const config = { tools: { deny: ["crash", "delete_*"] } };
    assert.ok(request({ tool: "crash", config })?.block);
    assert.ok(request({ tool: "delete_all", config })?.block);
    assert.equal(request({ tool: "CRASH", config }), null);
    assert.equal(request({ tool: "Delete_all", config }), null);
  });

  test("tools.case_insensitive = true matches deny and allow globs in any case", () => {
    const config = { tools: { deny: ["crash", "delete_*"], case_insensitive: true } };
    for (const tool of ["CRASH", "Crash", "cRaSh", "DELETE_ALL", "Delete_Everything"]) {
      assert.match(request({ tool, config })?.block?.reason ?? "", /tools\.deny/, tool);
    }
    const allow = { tools: { allow: ["read_*"], case_insensitive: true } };
    assert.equal(request({ tool: "READ_FILE", config: allow }), null);
    assert.ok(request({ tool: "write_file", config: allow })?.block);
  });

  test("character classes block chosen case variants without the option", () => {
    const config = { tools: { deny: ["[cC][rR][aA][sS][hH]"] } };
    assert.ok(request({ tool: "CrAsH", config })?.block);
  });

  test("case_insensitive must be a boolean", () => {
    assert.throws(() => guard.request({ toolName: "x", arguments: {}, metadata: {}, config: { tools: { case_insensitive: "yes" } } }), /case_insensitive/);
  });
});

describe("secrets: split, encoded, nested, in keys", () => {
  const blocked = (args, config = {}) => request({ args, config })?.block?.reason;

  test("a key cut in two across neighbouring fields is refused, even in redact mode", () => {
    const [a, b] = [ANTHROPIC.slice(0, 7), ANTHROPIC.slice(7)];
    assert.match(blocked({ prefix: a, rest: b }) ?? "", /anthropic_key split across arguments/);
    assert.match(blocked({ prefix: a, rest: b }, { secrets: "redact" }) ?? "", /split across/);
    assert.match(blocked({ parts: [AWS.slice(0, 4), AWS.slice(4, 10), AWS.slice(10)] }) ?? "", /aws_access_key split across arguments\.parts/);
    assert.match(blocked({ env: { TOKEN_A: GITHUB.slice(0, 20), TOKEN_B: GITHUB.slice(20) } }) ?? "", /github_token split across arguments\.env/);
    const pem = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo", "-----END RSA PRIVATE KEY-----"];
    assert.match(blocked({ lines: pem }) ?? "", /private_key/);
  });

  test("the reason never contains the secret or its pieces", () => {
    const reason = blocked({ prefix: ANTHROPIC.slice(0, 7), rest: ANTHROPIC.slice(7) });
    assert.ok(!reason.includes(ANTHROPIC.slice(7)));
    const lines = readFileSync(auditFile, "utf8");
    assert.ok(!lines.includes(ANTHROPIC.slice(7)) && !lines.includes(GITHUB.slice(20)));
  });

  test("unrelated neighbouring strings are not joined into false alarms", () => {
    assert.equal(request({ args: { a: "sk-", b: "short" } }), null);
    assert.equal(request({ args: { words: ["ask", "-ant-", "eater"] } }), null);
    assert.equal(request({ args: { path: `${root}/x`, mode: "read", note: "AKIA is the prefix of AWS access keys" } }), null);
  });

  test("base64- and base64url-encoded secrets are found and redacted", () => {
    for (const secret of [ANTHROPIC, AWS, GITHUB, `password=${ANTHROPIC}`]) {
      const b64 = Buffer.from(secret).toString("base64");
      const url = Buffer.from(secret).toString("base64url");
      assert.match(blocked({ data: b64 }) ?? "", /\(base64\) in arguments\.data/, secret);
      assert.match(blocked({ data: `config: ${url} end` }) ?? "", /\(base64\)/, secret);
    }
    const redacted = request({ args: { blob: Buffer.from(AWS).toString("base64") }, config: { secrets: "redact" } });
    assert.equal(redacted.arguments.blob, "[REDACTED:aws_access_key]");
    // Ordinary base64 (an image, a hash, a long identifier) passes.
    assert.equal(request({ args: { data: Buffer.from("hello world, nothing to see here").toString("base64") } }), null);
    assert.equal(request({ args: { data: Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)).toString("base64") } }), null);
    assert.equal(request({ args: { id: "abcdefghijklmnopqrstuvwxyzABCDEFGH_0123456789" } }), null);
  });

  test("an argument named like a binary field (blob, data of an image) is still scanned", () => {
    assert.match(blocked({ blob: ANTHROPIC }) ?? "", /anthropic_key in arguments\.blob/);
    assert.match(blocked({ type: "image", data: AWS }) ?? "", /aws_access_key in arguments\.data/);
  });

  test("secrets deep in arrays and objects are found with their path", () => {
    const args = { a: [{ b: [[{ c: { d: [null, 1, `token ${GITHUB}`] } }]] }] };
    assert.match(blocked(args) ?? "", /github_token in arguments\.a\[0\]\.b\[0\]\[0\]\.c\.d\[2\]/);
    const out = request({ args, config: { secrets: "redact" } });
    assert.equal(out.arguments.a[0].b[0][0].c.d[2], "token [REDACTED:github_token]");
  });

  test("secrets used as object keys are found, redacted in place and never echoed", () => {
    const reason = blocked({ headers: { [ANTHROPIC]: "x" } });
    assert.match(reason ?? "", /anthropic_key in arguments\.headers\{key\}/);
    assert.ok(!reason.includes(ANTHROPIC));
    const out = request({ args: { headers: { before: 1, [AWS]: "v", after: 2 } }, config: { secrets: "redact" } });
    assert.deepEqual(Object.keys(out.arguments.headers), ["before", "[REDACTED:aws_access_key]", "after"]);
    // A secret key holding a secret value: the value's location is redacted too.
    const both = blocked({ [ANTHROPIC]: GITHUB });
    assert.ok(!both.includes(ANTHROPIC) && !both.includes(GITHUB));
  });

  test("results: keys and base64 are redacted too", () => {
    const out = response({ content: [{ type: "text", text: `creds: ${Buffer.from(AWS).toString("base64")}` }], structuredContent: { [GITHUB]: 1 } });
    const text = JSON.stringify(out.result);
    assert.ok(!text.includes(GITHUB) && !text.includes(Buffer.from(AWS).toString("base64")), text);
  });

  test("the encoded pass stays linear on large inputs", () => {
    const big = "QUJD".repeat(500000); // 2 MB of one base64 run: longer than any credential blob, skipped
    const t0 = performance.now();
    redactSecrets(big);
    redactSecrets(("word ".repeat(5) + "A".repeat(30) + " ").repeat(20000));
    assert.ok(performance.now() - t0 < 2000);
  });
});
