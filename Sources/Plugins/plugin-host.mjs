// plugboard's plugin host: one warm Node.js worker running one plugin.
//
// plugboard starts it as `node plugin-host.mjs` with
//   PLUGBOARD_PLUGIN              absolute path of the plugin file
//   PLUGBOARD_PLUGIN_NAME         the plugin's name, for messages
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

const pluginPath = process.env.PLUGBOARD_PLUGIN ?? "";
const pluginName = process.env.PLUGBOARD_PLUGIN_NAME || basename(pluginPath, extname(pluginPath)) || "plugin";
const concurrency = parseConcurrency(process.env.PLUGBOARD_WORKER_CONCURRENCY);

// MARK: State

/** The plugin's hooks once loaded: { request?, response?, init? }, each `(arg) => any`. */
let hooks = null;
/** Calls received before the module finished loading, or while `concurrency` calls run. */
const waiting = [];
let running = 0;
let draining = false;
let exiting = false;
/** init(config) promises by the config's JSON text; a failed one is forgotten so the next call retries. */
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
  channel.write(encode(message) + "\n");
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

async function execute({ id, phase, input }) {
  // A phase the plugin has no hook for: plugboard checks `hooks` first, so this is a safety
  // net, and "no change" is the harmless answer.
  const hook = PHASES.includes(phase) ? hooks[phase] : undefined;
  if (hook === undefined) {
    send({ type: "result", id, output: null });
    return;
  }
  let output;
  try {
    await ensureInitialized(input?.config);
    output = await hook(input);
  } catch (error) {
    send({ type: "error", id, error: describe(error) });
    return;
  }
  sendResult(id, output);
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
    channel.write(line + "\n");
  } catch (error) {
    // BigInt, a cycle, or a toJSON that throws: nothing was written, so the call can still be answered.
    send({ type: "error", id, error: { message: `output is not JSON-serializable: ${error.message}`, stack: error.stack ?? "" } });
  }
}

/** Runs init(config) once per distinct config (by JSON text) before the first call carrying it. */
function ensureInitialized(config) {
  if (hooks.init === undefined) return undefined;
  const key = JSON.stringify(config ?? null);
  let pending = initialized.get(key);
  if (pending === undefined) {
    pending = (async () => hooks.init(config))().catch((error) => {
      initialized.delete(key);
      const failure = describe(error);
      throw Object.assign(new Error(`init failed: ${failure.message}`), { stack: failure.stack });
    });
    initialized.set(key, pending);
  }
  return pending;
}

// MARK: Loading the plugin

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

async function load() {
  if (pluginPath === "") throw new Error("PLUGBOARD_PLUGIN is not set; it names the plugin file to load");
  const namespace = await import(pathToFileURL(pluginPath).href);
  const found = findHooks(namespace);
  if (found === null) {
    throw new Error(
      `${pluginPath} has no usable export: expected a default-exported function, or request/response ` +
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
  if (located !== null) {
    failure.message = `${failure.message} at ${located.frame.split("\n")[0]}`;
    if (!located.inStack) failure.stack = `${located.frame}\n\n${failure.stack}`;
  }
  // Also in the log, with the stack: this is what a user needs to fix the plugin.
  warn(`cannot load plugin ${pluginName}: ${failure.stack || failure.message}`);
  send({ type: "fatal", error: failure });
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
    send({ type: "ready", pid: process.pid, plugin: pluginName, hooks: PHASES.filter((phase) => found[phase]), protocol: PROTOCOL });
    pump();
    exitIfIdle();
  },
  fatal,
);
