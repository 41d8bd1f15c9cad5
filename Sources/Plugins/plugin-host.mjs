// plugboard's plugin host: one warm Node.js worker running one plugin, or the plugins of a chain.
//
// plugboard starts it as `node plugin-host.mjs` with
//   PLUGBOARD_PLUGINS             the plugins to load, as JSON: [{"name": "audit", "path": "/abs/audit.mjs"}, ...]
//   PLUGBOARD_PLUGIN              or: absolute path of the one plugin file
//   PLUGBOARD_PLUGIN_NAME         and its name, for messages
//   PLUGBOARD_WORKER_CONCURRENCY  calls run at once (default 4); extra calls wait here, in order
// and talks to it over descriptor 3, a socketpair end, in newline-delimited JSON (protocol 1,
// described in docs/plugins.md). stdout and stderr are plain pipes that plugboard logs line by line,
// so nothing a plugin prints can corrupt the protocol; the host never writes protocol there.
//
// Node built-ins only: this file is compiled into plugboard and written out on its own, so it
// cannot rely on its location or on anything installed beside it.

import { spawnSync } from "node:child_process";
import net from "node:net";
import { basename, extname } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";

const PROTOCOL = 1;
const PHASES = ["request", "response"];

const plugins = parsePlugins();
const pluginName = plugins.map((plugin) => plugin.name).join("+") || "plugin";
const concurrency = parseConcurrency(process.env.PLUGBOARD_WORKER_CONCURRENCY);

// MARK: State

/** Each plugin's hooks by name once all are loaded: { request?, response?, init? }, each `(arg) => any`. */
let hooks = null;
/** Calls received before the module finished loading, or while `concurrency` calls run. */
const waiting = [];
let running = 0;
let draining = false;
let exiting = false;
/** init(config) promises by plugin and the config's JSON text; a failed one is forgotten so the next call retries. */
const initialized = new Map();

// MARK: The channel

let channel;
try {
  channel = new net.Socket({ fd: 3, readable: true, writable: true });
} catch (error) {
  warn(`cannot open descriptor 3 (${error.message}); this program is started by plugboard, which passes its channel there`);
  process.exit(2);
}

// Lines may be split across chunks, and a chunk may hold many lines; setEncoding keeps a
// multi-byte character split across two chunks whole.
channel.setEncoding("utf8");
let partial = [];
channel.on("data", (chunk) => {
  let start = 0;
  let newline;
  while ((newline = chunk.indexOf("\n", start)) !== -1) {
    partial.push(chunk.slice(start, newline));
    const line = partial.length === 1 ? partial[0] : partial.join("");
    partial = [];
    start = newline + 1;
    receive(line);
  }
  if (start < chunk.length) partial.push(chunk.slice(start));
});
// plugboard went away (or closed the channel to stop us): nobody is left to answer, so stop
// even if a plugin holds timers or sockets that would keep Node alive.
channel.on("end", () => exit(0));
channel.on("error", (error) => {
  warn(`channel error: ${error.message}`);
  exit(1);
});

/** Writes one message. */
function send(message) {
  writeLine(encode(message));
}

let corked = false;

/**
 * Answers finished in the same turn of the event loop (several calls that arrived in one read,
 * say) leave in one write: fewer system calls here, and fewer wakeups in plugboard.
 */
function writeLine(line) {
  if (!corked) {
    corked = true;
    channel.cork();
    process.nextTick(() => {
      corked = false;
      channel.uncork();
    });
  }
  channel.write(line + "\n");
}

/** One message's line; strings with lone UTF-16 surrogates are repaired (see `wellFormed`). */
function encode(message) {
  const line = JSON.stringify(message);
  // JSON.stringify escapes a lone surrogate as \udXXX, which plugboard's strict parser rejects
  // (and would replace the worker for). Only then pay for a second, repairing pass.
  return line.includes("\\ud") ? JSON.stringify(message, wellFormed) : line;
}

function wellFormed(_key, value) {
  return typeof value === "string" && !value.isWellFormed() ? value.toWellFormed() : value;
}

// MARK: Incoming messages

function receive(line) {
  if (line.trim() === "") return;
  let message;
  try {
    message = JSON.parse(line);
  } catch (error) {
    warn(`ignoring a malformed line on the channel (${error.message}): ${line.slice(0, 200)}`);
    return;
  }
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    warn(`ignoring a channel message that is not an object: ${line.slice(0, 200)}`);
    return;
  }
  switch (message.type) {
    case "call":
    case "run":
      return receiveCall(message);
    case "ping":
      return send({ type: "pong", id: message.id, inFlight: running + waiting.length, memory: memory() });
    case "drain":
      draining = true;
      return exitIfIdle();
    default:
      warn(`ignoring a channel message of unknown type ${JSON.stringify(message.type)}`);
  }
}

function receiveCall(message) {
  if (!Number.isSafeInteger(message.id)) {
    warn(`ignoring a call without an integer id: ${JSON.stringify(message).slice(0, 200)}`);
    return;
  }
  if (draining) {
    // plugboard stops routing to a worker before draining it, so this is a race at worst;
    // an immediate answer beats a call that waits for its timeout.
    send({ type: "error", id: message.id, error: { message: "the worker is draining and takes no new calls", stack: "" } });
    return;
  }
  waiting.push(message);
  pump();
}

/** Starts waiting calls while there is room; nothing starts before the module is loaded. */
function pump() {
  while (hooks !== null && running < concurrency && waiting.length > 0) {
    running += 1;
    execute(waiting.shift())
      .catch((error) => warn(`could not answer a call: ${error?.stack ?? error}`))
      .finally(() => {
        running -= 1;
        pump();
        exitIfIdle();
      });
  }
}

async function execute(message) {
  withRawContent(message.input);
  if (message.type === "run") return sendRan(message.id, await runSteps(message));
  const { id, phase, input } = message;
  // A phase the plugin has no hook for: plugboard checks `hooks` first, so this is a safety
  // net, and "no change" is the harmless answer.
  const hook = hookOf(message.plugin ?? plugins[0]?.name, phase);
  if (hook === undefined) {
    send({ type: "result", id, output: null });
    return;
  }
  let output;
  try {
    await ensureInitialized(message.plugin ?? plugins[0].name, input?.config);
    output = await hook(input);
  } catch (error) {
    send({ type: "error", id, error: describe(error) });
    return;
  }
  sendResult(id, output);
}

/** plugboard leaves out a result's text as `rawContent` where it is the result's texts joined: rebuilt here. */
function withRawContent(input) {
  if (input !== null && typeof input === "object" && input.rawContent === undefined && isObject(input.result)) {
    input.rawContent = rawContentOf(input.result, input.method);
  }
}

function hookOf(plugin, phase) {
  return PHASES.includes(phase) ? hooks.get(plugin)?.[phase] : undefined;
}

const maxMessageBytes = Number(process.env.PLUGBOARD_MAX_MESSAGE_BYTES) || 16 * 1024 * 1024;

function sendResult(id, output) {
  if (typeof output === "function" || typeof output === "symbol") {
    // JSON.stringify would drop the member silently, and plugboard would read "no change".
    send({ type: "error", id, error: { message: `output is not JSON-serializable: ${typeof output}`, stack: "" } });
    return;
  }
  try {
    // Anything else is sent as it is, objects or not: plugboard validates outputs and says what is wrong.
    // An output over plugboard's message limit fails this call only, not the whole worker.
    const line = encode({ type: "result", id, output: output ?? null });
    const size = Buffer.byteLength(line);
    if (size > maxMessageBytes) {
      send({ type: "error", id, error: { message: `output is ${size} bytes, over plugboard's limit of ${maxMessageBytes} (limits.max_message_bytes)`, stack: "" } });
      return;
    }
    writeLine(line);
  } catch (error) {
    // BigInt, a cycle, or a toJSON that throws: nothing was written, so the call can still be answered.
    send({ type: "error", id, error: { message: `output is not JSON-serializable: ${error.message}`, stack: error.stack ?? "" } });
  }
}

/** Runs a plugin's init(config) once per distinct config (by JSON text) before the first call carrying it. */
function ensureInitialized(plugin, config) {
  const init = hooks.get(plugin)?.init;
  if (init === undefined) return undefined;
  const key = `${plugin}\n${JSON.stringify(config ?? null)}`;
  let pending = initialized.get(key);
  if (pending === undefined) {
    pending = (async () => init(config))().catch((error) => {
      initialized.delete(key);
      const failure = describe(error);
      throw Object.assign(new Error(`init failed: ${failure.message}`), { stack: failure.stack });
    });
    initialized.set(key, pending);
  }
  return pending;
}

// MARK: Fused runs
//
// A "run" carries consecutive entries of one chain whose plugins this worker holds: each plugin
// works on what the one before it produced, here, in one round trip. These rules mirror
// plugboard's own (PluginOutput.validate, PluginOutputApplier, PluginInput in Sources/Plugins),
// which apply when entries run one per round trip; Tests/PluginHost holds both to the same cases.

const ALLOWED_KEYS = ["arguments", "block", "context", "continue", "error", "metadata", "result", "state", "text"];
const CHANGES = ["text", "arguments", "result", "block"];
const MAX_CARRIED_BYTES = 64 * 1024;
const METADATA_KEY = "dev.plugboard/plugins";
const QUERY_ARGUMENTS = ["query", "topic", "q", "question", "prompt", "search"];
const TOKEN_ARGUMENTS = ["tokens", "maxTokens", "max_tokens"];

/**
 * Runs `steps` in order on `current` (the params in the request phase, the result in the
 * response phase), honouring `continue: false`, blocks and each step's `onError` and `timeoutMs`.
 * Returns what plugboard needs to account for every step and to go on.
 */
async function runSteps({ phase, method, steps, input, current, measure }) {
  const original = phase === "request" ? current : input.result;
  let value = original;
  let context = input.context ?? {};
  const reports = [];
  const finish = (end) => ({ end, reports, context, current: value === original ? null : value });
  for (const [index, step] of steps.entries()) {
    const started = performance.now();
    const stepInput = inputFor(input, step, { phase, method, value, context, first: index === 0 });
    const report = { plugin: step.plugin };
    reports.push(report);
    const outcome = await runStep(step, phase, stepInput);
    report.ms = performance.now() - started;
    if (measure === true) {
      report.bytesIn = Buffer.byteLength(JSON.stringify(value));
      report.bytesOut = outcome.raw === undefined || outcome.raw === null ? 0 : Buffer.byteLength(JSON.stringify(outcome.raw) ?? "");
    }
    if (outcome.failure !== undefined) {
      report.outcome = outcome.failure.kind;
      report.failure = outcome.failure;
      if (step.onError === "skip") continue;
      return finish({ kind: "failed", index });
    }
    const output = outcome.output;
    if (output.state !== undefined) report.state = output.state;
    if (output.context !== undefined) context = output.context;
    if (output.error !== undefined) {
      report.warning = output.error;
      output.change = undefined;
      output.metadata = undefined;
    }
    if (output.metadata !== undefined) report.metadata = output.metadata;
    const applied = apply(output, phase, method, value, step.plugin);
    if (applied.invalid !== undefined) {
      report.outcome = "invalid_output";
      report.failure = { kind: "invalid_output", message: applied.invalid };
      if (step.onError === "skip") continue;
      return finish({ kind: "failed", index });
    }
    if (applied.blocked !== undefined) {
      report.outcome = "blocked";
      return finish({ kind: "blocked", index, reason: applied.blocked });
    }
    report.outcome = output.change === undefined ? "unchanged" : "ok";
    value = applied.value;
    if (!output.continueChain) return finish({ kind: "proceed", stopped: true });
  }
  return finish({ kind: "proceed", stopped: false });
}

async function runStep(step, phase, input) {
  const hook = hookOf(step.plugin, phase);
  if (hook === undefined) return { failure: { kind: "no_hook", message: `has no ${phase} hook` } };
  let timer;
  const expired = new Promise((resolve) => {
    timer = setTimeout(() => resolve(timedOut), step.timeoutMs);
  });
  try {
    const work = (async () => {
      await ensureInitialized(step.plugin, input.config);
      return hook(input);
    })();
    const output = await Promise.race([work, expired]);
    if (output === timedOut) return { failure: { kind: "timeout", message: "", seconds: step.timeoutMs / 1000 } };
    return { ...validate(output, phase), raw: output };
  } catch (error) {
    return { failure: { kind: "thrown", message: describe(error).message } };
  } finally {
    clearTimeout(timer);
  }
}

const timedOut = Symbol("timed out");

/** The input of a step: the first is plugboard's own; later ones follow what came before. */
/**
 * A step's input. What the step may change in place (the result or arguments, the context) is a
 * copy of its own: as when each plugin is a round trip of its own, only what it returns counts.
 */
function inputFor(base, step, { phase, method, value, context, first }) {
  if (first) {
    const input = { ...base, context: copyJSON(context) };
    if (phase === "request") input.arguments = copyJSON(base.arguments);
    else input.result = copyJSON(value);
    return input;
  }
  const input = { ...base, config: step.config, context: copyJSON(context), metadata: { ...base.metadata } };
  if (phase === "request") {
    input.arguments = copyJSON(argumentsOf(value, method));
    input.rawContent = JSON.stringify(input.arguments);
  } else {
    input.result = copyJSON(value);
    input.rawContent = rawContentOf(value, method);
    input.state = step.state ?? null;
  }
  input.maxTokens = maxTokensOf(step.config, input.arguments);
  input.metadata.userQuery = userQueryOf(step.config, input.arguments);
  return input;
}

/** A deep copy of parsed JSON: strings are shared, as they cannot change. */
function copyJSON(value) {
  if (Array.isArray(value)) return value.map(copyJSON);
  if (value === null || typeof value !== "object") return value;
  const copy = {};
  for (const key of Object.keys(value)) {
    // A "__proto__" member (JSON.parse makes it an own property) must not become the prototype.
    if (key === "__proto__") Object.defineProperty(copy, key, { value: copyJSON(value[key]), enumerable: true, writable: true, configurable: true });
    else copy[key] = copyJSON(value[key]);
  }
  return copy;
}

function argumentsOf(params, method) {
  if (method === "tools/call" || method === "prompts/get") return isObject(params.arguments) ? params.arguments : {};
  const { _meta, ...rest } = params;
  return rest;
}

function rawContentOf(result, method) {
  const texts = (blocks) => blocks.filter((block) => block?.type === "text" && typeof block.text === "string").map((block) => block.text);
  const list = (value) => (Array.isArray(value) ? value : []);
  switch (method) {
    case "tools/call":
      return texts(list(result.content)).join("\n");
    case "resources/read":
      return list(result.contents).filter((item) => typeof item?.text === "string").map((item) => item.text).join("\n");
    case "prompts/get":
      return texts(list(result.messages).map((message) => message?.content)).join("\n");
    default:
      return JSON.stringify(result);
  }
}

function maxTokensOf(config, args) {
  const integer = (value) => (Number.isSafeInteger(value) ? value : undefined);
  const fixed = integer(config?.max_tokens) ?? integer(config?.maxTokens);
  if (fixed !== undefined) return fixed;
  if (typeof config?.max_tokens_argument === "string") return integer(args[config.max_tokens_argument]) ?? null;
  return TOKEN_ARGUMENTS.map((name) => integer(args[name])).find((value) => value !== undefined) ?? null;
}

function userQueryOf(config, args) {
  const text = (value) => (typeof value === "string" ? value : undefined);
  if (typeof config?.query_argument === "string") return text(args[config.query_argument]) ?? null;
  return QUERY_ARGUMENTS.map((name) => text(args[name])).find((value) => value !== undefined) ?? null;
}

/** Checks an output against the contract: `{ output }` with defaults filled in, or `{ failure }`. */
function validate(value, phase) {
  const invalid = (message) => ({ failure: { kind: "invalid_output", message } });
  const output = { continueChain: true };
  if (value === undefined || value === null) return { output };
  if (!isObject(value)) return invalid(`expected an object (or nothing), found ${typeName(value)}`);
  const unknown = Object.keys(value).find((key) => !ALLOWED_KEYS.includes(key));
  if (unknown !== undefined) return invalid(`unknown field "${unknown}"; an output may have ${ALLOWED_KEYS.join(", ")}`);
  if (value.continue !== undefined) {
    if (typeof value.continue !== "boolean") return invalid(`"continue" must be a boolean, found ${typeName(value.continue)}`);
    output.continueChain = value.continue;
  }
  if (value.metadata !== undefined) {
    if (!isObject(value.metadata)) return invalid(`"metadata" must be an object, found ${typeName(value.metadata)}`);
    output.metadata = value.metadata;
  }
  if (value.error !== undefined && value.error !== null) {
    if (typeof value.error !== "string") return invalid(`"error" must be a string, found ${typeName(value.error)}`);
    output.error = value.error;
  }
  if (value.state !== undefined && value.state !== null) {
    if (phase !== "request") return invalid(`"state" can only be returned in the request phase (the response phase receives it)`);
    const size = Buffer.byteLength(JSON.stringify(value.state));
    if (size > MAX_CARRIED_BYTES) return invalid(`"state" is ${size} bytes, over ${MAX_CARRIED_BYTES}`);
    output.state = value.state;
  }
  if (value.context !== undefined && value.context !== null) {
    if (!isObject(value.context)) return invalid(`"context" must be an object, found ${typeName(value.context)}`);
    const size = Buffer.byteLength(JSON.stringify(value.context));
    if (size > MAX_CARRIED_BYTES) return invalid(`"context" is ${size} bytes, over ${MAX_CARRIED_BYTES}`);
    output.context = value.context;
  }
  const changes = CHANGES.filter((key) => value[key] !== undefined && value[key] !== null);
  if (changes.length > 1) return invalid(`only one of text, arguments, result and block may be given, found ${changes.join(" and ")}`);
  switch (changes[0]) {
    case "text":
      if (typeof value.text !== "string") return invalid(`"text" must be a string, found ${typeName(value.text)}`);
      output.change = { text: value.text };
      break;
    case "arguments":
      if (phase !== "request") return invalid(`"arguments" can only be returned in the request phase`);
      if (!isObject(value.arguments)) return invalid(`"arguments" must be an object`);
      output.change = { arguments: value.arguments };
      break;
    case "result":
      if (phase !== "response") return invalid(`"result" can only be returned in the response phase`);
      if (!isObject(value.result)) return invalid(`"result" must be an object`);
      output.change = { result: value.result };
      break;
    case "block":
      if (typeof value.block?.reason !== "string") return invalid(`"block" must be an object with a string "reason"`);
      output.change = { block: value.block.reason };
      break;
  }
  return { output };
}

/** Applies a valid output: `{ value }`, `{ blocked }` or `{ invalid }`. */
function apply(output, phase, method, current, plugin) {
  const change = output.change ?? {};
  if (change.block !== undefined) return { blocked: change.block };
  let next = current;
  if (change.arguments !== undefined) next = withArguments(change.arguments, current, method);
  if (change.result !== undefined) next = change.result;
  if (change.text !== undefined && phase === "request") {
    let parsed;
    try {
      parsed = JSON.parse(change.text);
    } catch {}
    if (!isObject(parsed)) return { invalid: `in the request phase "text" must be the arguments as a JSON object` };
    next = withArguments(parsed, current, method);
  }
  if (change.text !== undefined && phase === "response") {
    next = withText(change.text, current, method);
    if (next === null) return { invalid: `"text" cannot rewrite a ${method} result; return "result" instead` };
  }
  if (phase === "response" && output.metadata !== undefined) {
    const meta = isObject(next._meta) ? next._meta : {};
    const owned = isObject(meta[METADATA_KEY]) ? meta[METADATA_KEY] : {};
    next = { ...next, _meta: { ...meta, [METADATA_KEY]: { ...owned, [plugin]: output.metadata } } };
  }
  return { value: next };
}

function withArguments(args, params, method) {
  if (method === "tools/call" || method === "prompts/get") return { ...params, arguments: args };
  return params._meta === undefined ? { ...args } : { ...args, _meta: params._meta };
}

function withText(text, result, method) {
  const list = (value) => (Array.isArray(value) ? value : []);
  switch (method) {
    case "tools/call": {
      const others = list(result.content).filter((block) => block?.type !== "text");
      return { ...result, content: [{ type: "text", text }, ...others] };
    }
    case "resources/read": {
      const contents = list(result.contents);
      const first = contents.findIndex((item) => isObject(item) && item.text !== undefined);
      if (first === -1) return null;
      const blobs = contents.filter((item) => item?.text === undefined);
      return { ...result, contents: [{ ...contents[first], text }, ...blobs] };
    }
    default:
      return null;
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function typeName(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "boolean":
      return "a boolean";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

function sendRan(id, ran) {
  try {
    const line = encode({ type: "ran", id, ...ran });
    const size = Buffer.byteLength(line);
    if (size > maxMessageBytes) {
      send({ type: "error", id, error: { message: `the run's answer is ${size} bytes, over plugboard's limit of ${maxMessageBytes} (limits.max_message_bytes)`, stack: "" } });
      return;
    }
    writeLine(line);
  } catch (error) {
    send({ type: "error", id, error: { message: `a plugin's output is not JSON-serializable: ${error.message}`, stack: error.stack ?? "" } });
  }
}

// MARK: Loading the plugins

/**
 * Finds the hooks in a module namespace. A default-exported function handles both phases; a
 * default-exported object (or CommonJS `module.exports`) contributes its methods; named exports
 * are used when the default offers no hook. Methods are bound so `this` is their object.
 */
function findHooks(namespace) {
  const candidates = [];
  const main = namespace.default;
  if (typeof main === "function") {
    const init = typeof main.init === "function" ? main.init.bind(main) : bound(namespace, "init");
    return { request: (input) => main(input), response: (input) => main(input), init };
  }
  if (main !== null && typeof main === "object") candidates.push(main);
  candidates.push(namespace);
  for (const source of candidates) {
    const found = { request: bound(source, "request"), response: bound(source, "response"), init: bound(source, "init") };
    if (found.request !== undefined || found.response !== undefined) return found;
  }
  return null;
}

function bound(source, name) {
  return typeof source[name] === "function" ? source[name].bind(source) : undefined;
}

/** Loads every plugin, in order; the first that cannot load is fatal for the worker. */
async function load() {
  if (plugins.length === 0) throw new Error("PLUGBOARD_PLUGINS and PLUGBOARD_PLUGIN are not set; they name the plugin files to load");
  const loaded = new Map();
  for (const plugin of plugins) {
    // Should the module end the process as it loads (process.exit, a native crash), plugboard
    // still knows which of several it was.
    if (plugins.length > 1) send({ type: "loading", plugin: plugin.name });
    try {
      loaded.set(plugin.name, await loadOne(plugin.path));
    } catch (error) {
      throw Object.assign(error, { plugin });
    }
  }
  return loaded;
}

async function loadOne(path) {
  const namespace = await import(pathToFileURL(path).href);
  const found = findHooks(namespace);
  if (found === null) {
    throw new Error(
      `${path} has no usable export: expected a default-exported function, or request/response ` +
        `functions (methods of the default export or of module.exports, or named exports)`,
    );
  }
  return found;
}

/**
 * Where a syntax error is: "FILE:LINE", the line and a caret. For CommonJS Node puts this at the
 * top of the stack; for an ES module, dynamic import() keeps it to itself, so ask `node --check`.
 * Only on this rare path; the permission model may refuse the child, and then there is no frame.
 */
function syntaxErrorFrame(error) {
  if (!(error instanceof SyntaxError)) return null;
  const pluginPath = error.plugin?.path ?? "";
  const isFrame = (text) => /^\S+:\d+$/.test(text.split("\n")[0]);
  const own = (error.stack ?? "").split("\n\n")[0];
  if (isFrame(own)) return { frame: own, inStack: true };
  try {
    const check = spawnSync(process.execPath, ["--check", pluginPath], { encoding: "utf8", timeout: 5000 });
    const frame = (check.stderr ?? "").split("\n\n")[0];
    return isFrame(frame) ? { frame, inStack: false } : null;
  } catch {
    return null;
  }
}

function fatal(error) {
  const failure = describe(error);
  const located = syntaxErrorFrame(error);
  const culprit = error?.plugin?.name ?? pluginName;
  if (located !== null) {
    failure.message = `${failure.message} at ${located.frame.split("\n")[0]}`;
    if (!located.inStack) failure.stack = `${located.frame}\n\n${failure.stack}`;
  }
  // Also in the log, with the stack: this is what a user needs to fix the plugin.
  warn(`cannot load plugin ${culprit}: ${failure.stack || failure.message}`);
  send({ type: "fatal", plugin: culprit, error: failure });
  exit(1);
}

// MARK: Helpers

function describe(error) {
  if (error !== null && typeof error === "object" && typeof error.message === "string") {
    const name = typeof error.name === "string" && error.name !== "Error" && error.name !== "" ? `${error.name}: ` : "";
    return { message: `${name}${error.message}` || "Error", stack: typeof error.stack === "string" ? error.stack : "" };
  }
  // `throw "text"`, `reject(42)`, `throw { code: 1 }`: say what it was.
  const text = typeof error === "string" ? error : inspect(error, { depth: 2, breakLength: Infinity });
  return { message: `a non-Error value was thrown: ${text}`, stack: "" };
}

function memory() {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

function parsePlugins() {
  const list = process.env.PLUGBOARD_PLUGINS;
  if (list === undefined || list === "") {
    const path = process.env.PLUGBOARD_PLUGIN ?? "";
    if (path === "") return [];
    return [{ name: process.env.PLUGBOARD_PLUGIN_NAME || basename(path, extname(path)) || "plugin", path }];
  }
  try {
    const parsed = JSON.parse(list);
    if (Array.isArray(parsed) && parsed.every((p) => typeof p?.name === "string" && typeof p?.path === "string")) return parsed;
  } catch {}
  warn(`PLUGBOARD_PLUGINS is not a JSON array of {"name", "path"} objects: ${list.slice(0, 200)}`);
  return [];
}

function parseConcurrency(text) {
  if (text === undefined || text === "") return 4;
  const value = Number(text);
  if (Number.isSafeInteger(value) && value >= 1) return value;
  warn(`PLUGBOARD_WORKER_CONCURRENCY=${JSON.stringify(text)} is not a positive integer; using 4`);
  return 4;
}

function warn(text) {
  process.stderr.write(`plugin-host: ${text}\n`);
}

function exitIfIdle() {
  if (draining && running === 0 && waiting.length === 0) exit(0);
}

/** Flushes what is queued for the channel, then exits; once. */
function exit(code) {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  if (channel.destroyed || !channel.writable) process.exit(code);
  channel.end(() => process.exit(code));
  // A peer that stopped reading must not keep us alive.
  setTimeout(() => process.exit(code), 2000).unref();
}

// MARK: Start

load().then(
  (found) => {
    if (exiting) return;
    hooks = found;
    const phasesByPlugin = Object.fromEntries([...found].map(([name, hook]) => [name, PHASES.filter((phase) => hook[phase])]));
    const union = PHASES.filter((phase) => Object.values(phasesByPlugin).some((phases) => phases.includes(phase)));
    send({ type: "ready", pid: process.pid, plugin: pluginName, hooks: union, plugins: phasesByPlugin, protocol: PROTOCOL });
    pump();
    exitIfIdle();
  },
  fatal,
);
