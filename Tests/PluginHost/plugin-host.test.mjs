// Tests of the plugin host (Sources/Plugins/plugin-host.mjs) and the example plugins in plugins.d/:
// each test starts the host the way plugboard does — a socketpair on descriptor 3, stdin on
// /dev/null, stdout and stderr on pipes — and speaks the worker protocol to it.
//
//   node --test Tests/PluginHost/

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const HOST = join(root, "Sources/Plugins/plugin-host.mjs");
const WAIT_MS = 5000;

/** A running host and the protocol messages it sent on its channel. */
class Host {
  constructor(pluginPath, { name, concurrency, env } = {}) {
    // libuv makes extra "pipe" descriptors socketpairs, as plugboard does.
    this.child = spawn(process.execPath, [HOST], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      cwd: dirname(pluginPath),
      env: {
        PATH: process.env.PATH,
        PLUGBOARD_PLUGIN: pluginPath,
        PLUGBOARD_PLUGIN_NAME: name ?? "fixture",
        ...(concurrency === undefined ? {} : { PLUGBOARD_WORKER_CONCURRENCY: String(concurrency) }),
        ...env,
      },
    });
    this.channel = this.child.stdio[3];
    this.stdout = "";
    this.stderr = "";
    this.raw = "";
    this.messages = [];
    this.waiters = [];
    this.nextID = 1;
    this.child.stdout.on("data", (chunk) => (this.stdout += chunk));
    this.child.stderr.on("data", (chunk) => (this.stderr += chunk));
    this.channel.setEncoding("utf8");
    this.channel.on("data", (chunk) => {
      this.raw += chunk;
      let newline;
      while ((newline = this.raw.indexOf("\n")) !== -1) {
        const line = this.raw.slice(0, newline);
        this.raw = this.raw.slice(newline + 1);
        this.messages.push(JSON.parse(line)); // a malformed line fails the test here
        this.wake();
      }
    });
    this.channel.on("error", () => {});
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  send(message) {
    this.channel.write(typeof message === "string" ? message : JSON.stringify(message) + "\n");
  }

  /** The first unclaimed message matching `predicate`; removes it from `messages`. */
  next(predicate, what = "a message") {
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${WAIT_MS} ms; got ${JSON.stringify(this.messages)}; stderr: ${this.stderr}`));
      }, WAIT_MS);
      this.waiters.push(waiter);
      this.wake();
    });
  }

  wake() {
    for (const waiter of [...this.waiters]) {
      const index = this.messages.findIndex(waiter.predicate);
      if (index === -1) continue;
      const [message] = this.messages.splice(index, 1);
      clearTimeout(waiter.timer);
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  }

  ready() {
    return this.next((m) => m.type === "ready", "ready message");
  }

  /** Sends a call and returns its answer (result or error). */
  call(phase, input) {
    const id = this.nextID++;
    this.send({ type: "call", id, phase, input: makeInput(phase, input) });
    return this.next((m) => m.id === id && (m.type === "result" || m.type === "error"), `answer to call ${id}`);
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** A plugin input as plugboard builds it, with `overrides` on top. */
function makeInput(phase, overrides = {}) {
  const args = overrides.arguments ?? { query: "hello" };
  return {
    toolName: "search",
    rawContent: phase === "request" ? JSON.stringify(args) : "some text",
    maxTokens: null,
    metadata: { requestId: "r1", timestamp: "2026-01-01T00:00:00.000Z", serverName: "demo", phase, userQuery: "hello" },
    method: "tools/call",
    arguments: args,
    ...(phase === "response" ? { result: { content: [{ type: "text", text: overrides.rawContent ?? "some text" }] } } : {}),
    config: {},
    ...overrides,
  };
}

/** Starts a host on a fixture (or a path), waits for ready, runs `body`, always stops it. */
async function withHost(plugin, options, body) {
  if (typeof options === "function") [options, body] = [{}, options];
  const host = new Host(plugin.startsWith("/") ? plugin : join(here, "fixtures", plugin), options);
  try {
    const ready = await host.ready();
    await body(host, ready);
  } finally {
    await host.stop();
  }
}

describe("handshake", () => {
  test("a default-exported function handles both phases", () =>
    withHost("echo-both.mjs", { name: "echo" }, async (host, ready) => {
      assert.deepEqual(ready, {
        type: "ready", pid: host.child.pid, plugin: "echo", hooks: ["request", "response"], plugins: { echo: ["request", "response"] }, protocol: 1,
      });
    }));

  test("an object with only response lists only response", () =>
    withHost("response-only.mjs", async (_host, ready) => assert.deepEqual(ready.hooks, ["response"])));

  test("named exports are used when there is no default", () =>
    withHost("named.mjs", async (_host, ready) => assert.deepEqual(ready.hooks, ["request"])));
});

describe("calls", () => {
  test("calls in both phases get the plugin's return value", () =>
    withHost("echo-both.mjs", async (host) => {
      assert.deepEqual(await host.call("request", {}), { type: "result", id: 1, output: { text: 'request:{"query":"hello"}' } });
      assert.deepEqual(await host.call("response", { rawContent: "abc" }), { type: "result", id: 2, output: { text: "response:abc" } });
    }));

  test("object methods are called with this bound to their object", () =>
    withHost("response-only.mjs", async (host) => {
      const answer = await host.call("response", { rawContent: "quiet" });
      assert.deepEqual(answer.output, { text: "QUIET", metadata: { self: "bound" } });
    }));

  test("a call for a phase without a hook answers null", () =>
    withHost("response-only.mjs", async (host) => {
      assert.deepEqual(await host.call("request", {}), { type: "result", id: 1, output: null });
    }));

  test("returning undefined answers a null output", () =>
    withHost("returns-nothing.mjs", async (host) => {
      assert.deepEqual(await host.call("response", {}), { type: "result", id: 1, output: null });
    }));

  test("several calls run at once on one worker", () =>
    withHost("slow.mjs", { concurrency: 4 }, async (host) => {
      const started = Date.now();
      const answers = await Promise.all([1, 2, 3, 4].map((n) => host.call("response", { rawContent: `c${n}`, config: { delayMs: 300 } })));
      const elapsed = Date.now() - started;
      assert.deepEqual(answers.map((a) => a.output.text), ["c1", "c2", "c3", "c4"]);
      assert.equal(Math.max(...answers.map((a) => a.output.metadata.maxActive)), 4);
      assert.ok(elapsed < 1000, `four 300 ms calls took ${elapsed} ms: they did not overlap`);
    }));

  test("calls beyond PLUGBOARD_WORKER_CONCURRENCY wait in order", () =>
    withHost("slow.mjs", { concurrency: 2 }, async (host) => {
      const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => host.call("response", { rawContent: `c${n}`, config: { delayMs: 100 } })));
      assert.deepEqual(answers.map((a) => a.output.text), ["c1", "c2", "c3", "c4", "c5"]);
      assert.equal(Math.max(...answers.map((a) => a.output.metadata.maxActive)), 2);
    }));
});

describe("plugin errors", () => {
  test("a throwing plugin answers an error with its message and a stack naming the plugin", () =>
    withHost("thrower.mjs", { name: "thrower" }, async (host) => {
      const answer = await host.call("response", {});
      assert.equal(answer.type, "error");
      assert.equal(answer.error.message, "boom in thrower");
      assert.match(answer.error.stack, /thrower\.mjs:\d+/);
    }));

  test("a rejected promise answers an error naming the error type", () =>
    withHost("thrower.mjs", async (host) => {
      const answer = await host.call("response", { config: { how: "reject" } });
      assert.equal(answer.error.message, "TypeError: rejected by thrower");
    }));

  test("a thrown non-Error value is described", () =>
    withHost("thrower.mjs", async (host) => {
      const answer = await host.call("response", { config: { how: "string" } });
      assert.equal(answer.error.message, "a non-Error value was thrown: just a string");
    }));

  test("the worker keeps serving after a plugin error", () =>
    withHost("thrower.mjs", async (host) => {
      await host.call("response", {});
      assert.equal((await host.call("response", {})).type, "error");
      const pong = host.next((m) => m.type === "pong");
      host.send({ type: "ping", id: 50 });
      assert.equal((await pong).id, 50);
    }));
});

describe("odd outputs", () => {
  const cases = [
    ["string", { type: "result", output: "not an object" }],
    ["array", { type: "result", output: [1, 2] }],
  ];
  for (const [kind, expected] of cases) {
    test(`a ${kind} output is sent as it is, for plugboard to validate`, () =>
      withHost("odd-output.mjs", async (host) => {
        const { id: _, ...answer } = await host.call("response", { config: { kind } });
        assert.deepEqual(answer, expected);
      }));
  }

  for (const kind of ["bigint", "cycle", "function"]) {
    test(`a ${kind} output answers "output is not JSON-serializable"`, () =>
      withHost("odd-output.mjs", async (host) => {
        const answer = await host.call("response", { config: { kind } });
        assert.equal(answer.type, "error");
        assert.match(answer.error.message, /^output is not JSON-serializable: /);
      }));
  }

  test("a lone UTF-16 surrogate is replaced, so the line stays valid UTF-8", () =>
    withHost("odd-output.mjs", async (host) => {
      const answer = await host.call("response", { config: { kind: "lone-surrogate" } });
      assert.equal(answer.output.text, "cut emoji: \ufffd");
    }));
});

describe("loading failures", () => {
  async function expectFatal(fixture, pattern) {
    const host = new Host(join(here, "fixtures", fixture));
    try {
      const fatal = await host.next((m) => m.type === "fatal", "fatal message");
      assert.match(fatal.error.message, pattern);
      assert.equal(typeof fatal.error.stack, "string");
      assert.deepEqual(await host.exited, { code: 1, signal: null });
      assert.match(host.stderr, /cannot load plugin/);
      assert.equal(host.messages.length, 0, "nothing but the fatal message");
    } finally {
      await host.stop();
    }
  }

  test("a failed import is fatal and exits 1", () => expectFatal("broken-import.mjs", /does-not-exist\.mjs/));
  test("a syntax error is fatal and says where", () => expectFatal("syntax-error.mjs", /SyntaxError: .* at \S*syntax-error\.mjs:4$/));
  test("a CommonJS syntax error says where too", () => expectFatal("syntax-error.cjs", /SyntaxError: .* at \S*syntax-error\.cjs:3$/));
  test("a module with no usable export is fatal", () => expectFatal("no-export.mjs", /has no usable export/));
  test("a missing PLUGBOARD_PLUGIN is fatal", async () => {
    const host = new Host("", {});
    const fatal = await host.next((m) => m.type === "fatal");
    assert.match(fatal.error.message, /PLUGBOARD_PLUGINS and PLUGBOARD_PLUGIN are not set/);
    assert.equal((await host.exited).code, 1);
  });
});

describe("CommonJS", () => {
  test("module.exports = { init, request } works", () =>
    withHost("commonjs.js", async (host, ready) => {
      assert.deepEqual(ready.hooks, ["request"]);
      const answer = await host.call("request", { arguments: { q: 1 }, config: { label: "a" } });
      assert.deepEqual(JSON.parse(answer.output.text), { q: 1, via: "commonjs", seen: ["a"] });
    }));

  test("module.exports = function handles both phases", () =>
    withHost("commonjs-function.cjs", async (host, ready) => {
      assert.deepEqual(ready.hooks, ["request", "response"]);
      assert.equal((await host.call("response", {})).output.text, "cjs response");
    }));
});

describe("init(config)", () => {
  test("runs once per distinct config, before the first call carrying it", () =>
    withHost("init-counter.mjs", async (host) => {
      // Two calls with config A arrive during A's (slow) init: both wait for it, it runs once.
      const [first, second] = await Promise.all([
        host.call("response", { config: { label: "A" } }),
        host.call("response", { config: { label: "A" } }),
      ]);
      assert.deepEqual(first.output.metadata.inits, ["A"]);
      assert.deepEqual(second.output.metadata.inits, ["A"]);
      const third = await host.call("response", { config: { label: "B" } });
      assert.deepEqual(third.output.metadata.inits, ["A", "B"]);
      const fourth = await host.call("response", { config: { label: "A" } });
      assert.deepEqual(fourth.output.metadata.inits, ["A", "B"]);
    }));

  test("named init runs before named request", () =>
    withHost("named.mjs", async (host) => {
      const answer = await host.call("request", { arguments: { x: 1 }, config: { tag: "t" } });
      assert.deepEqual(answer.output, { arguments: { x: 1, tag: "t" } });
    }));

  test("a failing init fails the call with 'init failed: ', and is retried by the next call", () =>
    withHost("init-counter.mjs", async (host) => {
      const answers = await Promise.all([1, 2].map(() => host.call("response", { config: { failInit: true } })));
      for (const answer of answers) {
        assert.equal(answer.type, "error");
        assert.equal(answer.error.message, "init failed: no database");
      }
      const other = await host.call("response", { config: { label: "ok" } });
      assert.deepEqual(other.output.metadata.inits, ["ok"]);
    }));
});

describe("the channel is only for protocol", () => {
  test("console output goes to stdout and stderr, never to fd 3", () =>
    withHost("chatty.mjs", async (host) => {
      const answer = await host.call("response", { rawContent: "hi" });
      assert.deepEqual(answer, { type: "result", id: 1, output: { text: "real" } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(host.messages, [], "no other message on the channel");
      assert.match(host.stdout, /"forged"/);
      assert.match(host.stdout, /chatty saw hi/);
      assert.match(host.stderr, /chatty warns/);
    }));

  test("a malformed line and an unknown type are ignored with a warning on stderr", () =>
    withHost("echo-both.mjs", async (host) => {
      host.send("this is not json\n");
      host.send({ type: "teleport", id: 3 });
      host.send("\n");
      assert.equal((await host.call("response", { rawContent: "still here" })).output.text, "response:still here");
      assert.match(host.stderr, /malformed line/);
      assert.match(host.stderr, /unknown type "teleport"/);
    }));

  test("a message split across writes and several messages in one write are read whole", () =>
    withHost("echo-both.mjs", async (host) => {
      const call = (id, text) => JSON.stringify({ type: "call", id, phase: "response", input: makeInput("response", { rawContent: text }) });
      const both = `${call(10, "é€😀")}\n${call(11, "two")}\n`;
      const cut = Buffer.from(both).indexOf(Buffer.from("😀")) + 2; // inside the emoji's UTF-8 bytes
      host.channel.write(Buffer.from(both).subarray(0, cut));
      await new Promise((resolve) => setTimeout(resolve, 30));
      host.channel.write(Buffer.from(both).subarray(cut));
      assert.equal((await host.next((m) => m.id === 10)).output.text, "response:é€😀");
      assert.equal((await host.next((m) => m.id === 11)).output.text, "response:two");
    }));
});

describe("lifecycle", () => {
  test("ping answers pong with the calls in flight and memory", () =>
    withHost("slow.mjs", async (host) => {
      const pending = host.call("response", { config: { delayMs: 300 } });
      host.send({ type: "ping", id: 99 });
      const pong = await host.next((m) => m.type === "pong");
      assert.equal(pong.id, 99);
      assert.equal(pong.inFlight, 1);
      assert.ok(pong.memory.rss > 1e6 && pong.memory.heapUsed > 0, JSON.stringify(pong.memory));
      await pending;
    }));

  test("drain finishes in-flight calls, refuses new ones, then exits 0", () =>
    withHost("slow.mjs", { concurrency: 1 }, async (host) => {
      const calls = [host.call("response", { rawContent: "a", config: { delayMs: 200 } }), host.call("response", { rawContent: "b", config: { delayMs: 200 } })];
      host.send({ type: "drain" });
      const late = await host.call("response", { rawContent: "late" });
      assert.equal(late.type, "error");
      assert.match(late.error.message, /draining/);
      const answers = await Promise.all(calls);
      assert.deepEqual(answers.map((a) => a.output.text), ["a", "b"]);
      assert.deepEqual(await host.exited, { code: 0, signal: null });
    }));

  test("drain with nothing in flight exits at once", () =>
    withHost("echo-both.mjs", async (host) => {
      host.send({ type: "drain" });
      assert.deepEqual(await host.exited, { code: 0, signal: null });
    }));

  test("the host exits when its channel closes, even if the plugin holds timers", () =>
    withHost("keeps-alive.mjs", async (host) => {
      host.channel.end();
      assert.deepEqual(await host.exited, { code: 0, signal: null });
    }));
});

describe("example plugins in plugins.d", () => {
  const example = (name) => join(root, "plugins.d", name);

  test("uppercase uppercases response text", () =>
    withHost(example("uppercase.mjs"), async (host, ready) => {
      assert.deepEqual(ready.hooks, ["response"]);
      assert.deepEqual((await host.call("response", { rawContent: "Hello, World" })).output, { text: "HELLO, WORLD" });
    }));

  test("redact-emails replaces addresses and counts them", () =>
    withHost(example("redact-emails.mjs"), async (host, ready) => {
      assert.deepEqual(ready.hooks, ["response"]);
      const answer = await host.call("response", { rawContent: "Mail ada@example.com or bob.smith+x@mail.co.uk, not @handle or a@b." });
      assert.deepEqual(answer.output, { text: "Mail [redacted] or [redacted], not @handle or a@b.", metadata: { redacted: 2 } });
      assert.deepEqual((await host.call("response", { rawContent: "no addresses" })).output, null);
      const custom = await host.call("response", { rawContent: "x@y.org", config: { replacement: "***" } });
      assert.equal(custom.output.text, "***");
    }));

  test("block-tool blocks denied tools with a reason and lets others through", () =>
    withHost(example("block-tool.mjs"), async (host, ready) => {
      assert.deepEqual(ready.hooks, ["request"]);
      const config = { deny: ["delete_file"], reason: "read-only session" };
      const blocked = await host.call("request", { toolName: "delete_file", config });
      assert.deepEqual(blocked.output, { block: { reason: 'the tool "delete_file" is blocked: read-only session' } });
      assert.equal((await host.call("request", { toolName: "read_file", config })).output, null);
      assert.equal((await host.call("request", { toolName: "delete_file" })).output, null);
    }));

  test("legacy-wordcount (exec mode) reads one object from stdin and prints one JSON line", async () => {
    const child = spawn(process.execPath, [example("legacy-wordcount.js")], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stdin.end(JSON.stringify(makeInput("response", { rawContent: "three little  words" })));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
    const lines = stdout.split("\n").filter(Boolean);
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]), { text: "three little  words\n\n(3 words)", continue: true });
  });
});

describe("fused runs", () => {
  const scripted = join(here, "fixtures", "scripted.mjs");
  const plugins = JSON.stringify([
    { name: "one", path: scripted },
    { name: "two", path: scripted },
  ]);
  const step = (plugin, config, extra = {}) => ({ plugin, config, onError: "fail", timeoutMs: 2000, ...extra });

  /** Sends a run and returns its answer. */
  async function run(host, phase, steps, overrides = {}) {
    const id = host.nextID++;
    const input = makeInput(phase, { config: steps[0].config, ...overrides });
    const current = phase === "request" ? { name: "search", arguments: input.arguments } : undefined;
    host.send({ type: "run", id, phase, method: "tools/call", steps, input, current });
    return host.next((m) => m.id === id, `answer to run ${id}`);
  }

  const withPlugins = (body) => withHost(scripted, { env: { PLUGBOARD_PLUGINS: plugins } }, body);

  test("the worker loads every plugin it is given and lists each one's hooks", () =>
    withPlugins(async (_host, ready) => {
      assert.deepEqual(ready.plugins, { one: ["request", "response"], two: ["request", "response"] });
      assert.equal(ready.plugin, "one+two");
    }));

  test("each step works on what the one before produced; one answer reports every step", () =>
    withPlugins(async (host) => {
      const ran = await run(host, "response", [
        step("one", { do: "append", suffix: "-1" }),
        step("two", { do: "append", suffix: "-2" }),
        step("one", { do: "report" }),
      ]);
      assert.equal(ran.type, "ran");
      assert.deepEqual(ran.end, { kind: "proceed", stopped: false });
      assert.deepEqual(ran.reports.map((r) => [r.plugin, r.outcome]), [["one", "ok"], ["two", "ok"], ["one", "unchanged"]]);
      assert.equal(ran.current.content[0].text, "some text-1-2");
      assert.equal(ran.reports[2].metadata.rawContent, "some text-1-2");
      assert.deepEqual(ran.current._meta["dev.plugboard/plugins"].one.rawContent, "some text-1-2");
    }));

  test("a step that changes its input in place and returns null changes nothing, for the steps after it either", () =>
    withPlugins(async (host) => {
      const response = await run(host, "response", [
        step("one", { do: "scribble" }),
        step("two", { do: "report" }),
        step("one", { do: "scribble" }),
        step("two", { do: "append", suffix: "-2" }),
      ]);
      assert.deepEqual(response.reports.map((r) => r.outcome), ["unchanged", "unchanged", "unchanged", "ok"]);
      assert.equal(response.reports[1].metadata.rawContent, "some text");
      assert.deepEqual(response.reports[1].metadata.context, {});
      assert.equal(response.current.content[0].text, "some text-2");
      const request = await run(host, "request", [step("one", { do: "scribble" }), step("two", { do: "args", suffix: "!" })]);
      assert.equal(request.current.arguments.query, `${makeInput("request").arguments.query}!`);
    }));

  test("request steps rewrite the arguments, and later steps see the new query", () =>
    withPlugins(async (host) => {
      const ran = await run(host, "request", [step("one", { do: "args", suffix: "!" }), step("two", { do: "args", suffix: "?" })]);
      assert.deepEqual(ran.current, { name: "search", arguments: { query: "hello!?" } });
    }));

  test("continue: false ends the run, a block ends it with the reason", () =>
    withPlugins(async (host) => {
      const stopped = await run(host, "response", [step("one", { do: "stop", suffix: "." }), step("two", { do: "append", suffix: "never" })]);
      assert.deepEqual(stopped.end, { kind: "proceed", stopped: true });
      assert.equal(stopped.reports.length, 1);
      assert.equal(stopped.current.content[0].text, "some text.");
      const blocked = await run(host, "request", [step("one", { do: "args", suffix: "!" }), step("two", { do: "block", reason: "no" })]);
      assert.deepEqual(blocked.end, { kind: "blocked", index: 1, reason: "no" });
      assert.equal(blocked.reports[1].outcome, "blocked");
    }));

  test("a failing step ends the run, or with onError skip is passed by; the report names its plugin and kind", () =>
    withPlugins(async (host) => {
      const failed = await run(host, "response", [step("one", { do: "append", suffix: "-1" }), step("two", { do: "throw" })]);
      assert.deepEqual(failed.end, { kind: "failed", index: 1 });
      assert.deepEqual(failed.reports[1].failure, { kind: "thrown", message: "scripted failure" });
      const skipped = await run(host, "response", [
        step("one", { do: "throw" }, { onError: "skip" }),
        step("two", { do: "odd", value: "a string" }, { onError: "skip" }),
        step("one", { do: "hang" }, { onError: "skip", timeoutMs: 100 }),
        step("two", { do: "append", suffix: "-ok" }),
      ]);
      assert.deepEqual(skipped.end, { kind: "proceed", stopped: false });
      assert.deepEqual(skipped.reports.map((r) => r.outcome), ["thrown", "invalid_output", "timeout", "ok"]);
      assert.equal(skipped.reports[1].failure.message, "expected an object (or nothing), found a string");
      assert.equal(skipped.reports[2].failure.seconds, 0.1);
      assert.equal(skipped.current.content[0].text, "some text-ok");
    }));

  test("outputs are held to the same contract as a call's", () =>
    withPlugins(async (host) => {
      const cases = [
        [{ txt: "x" }, /^unknown field "txt"; an output may have arguments, block, context, continue, error, metadata, result, state, text$/],
        [{ text: "a", result: {} }, /^only one of text, arguments, result and block may be given, found text and result$/],
        [{ arguments: {} }, /^"arguments" can only be returned in the request phase$/],
        [{ state: { x: 1 } }, /^"state" can only be returned in the request phase/],
        [{ continue: "no" }, /^"continue" must be a boolean, found a string$/],
        [{ block: {} }, /^"block" must be an object with a string "reason"$/],
        [{ metadata: [1] }, /^"metadata" must be an object, found an array$/],
      ];
      for (const [value, message] of cases) {
        const ran = await run(host, "response", [step("one", { do: "odd", value })]);
        assert.equal(ran.reports[0].outcome, "invalid_output", JSON.stringify(value));
        assert.match(ran.reports[0].failure.message, message);
      }
    }));

  test("a soft error leaves the content alone; state and context are carried; measure reports sizes", () =>
    withPlugins(async (host) => {
      const soft = await run(host, "response", [step("one", { do: "soft" }), step("two", { do: "append", suffix: "-2" })]);
      assert.equal(soft.reports[0].warning, "could not do it");
      assert.equal(soft.reports[0].metadata, undefined);
      assert.equal(soft.current.content[0].text, "some text-2");
      const remembered = await run(host, "request", [step("one", { do: "remember", suffix: "a" }), step("two", { do: "remember", suffix: "b" })]);
      assert.deepEqual(remembered.reports.map((r) => r.state), [{ from: "a" }, { from: "b" }]);
      assert.deepEqual(remembered.context, { a: true, b: true });
      assert.equal(remembered.current, null, "nothing changed the params");
      const reported = await run(host, "response", [step("one", { do: "report" }), step("two", { do: "report", max_tokens: 7 }, { state: { from: "x" } })], {
        context: { a: true },
      });
      assert.deepEqual(reported.reports[1].metadata.state, { from: "x" });
      assert.deepEqual(reported.reports[1].metadata.context, { a: true });
      assert.equal(reported.reports[1].metadata.maxTokens, 7);
      assert.equal(reported.reports[1].metadata.userQuery, "hello");
    }));
});

describe("rawContent", () => {
  test("a response input without rawContent gets the result's texts joined", () =>
    withHost("echo-both.mjs", async (host) => {
      const input = makeInput("response", { result: { content: [{ type: "text", text: "a" }, { type: "image", data: "" }, { type: "text", text: "b" }] } });
      delete input.rawContent;
      host.send({ type: "call", id: 99, phase: "response", input });
      const answer = await host.next((m) => m.id === 99, "the answer");
      assert.equal(answer.output.text, "response:a\nb");
    }));
});
