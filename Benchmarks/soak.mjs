#!/usr/bin/env node
// Soak: plugboard under steady load for a given time while a plugin is rewritten and the
// config gains and loses a server at intervals. Every period it prints p50/p99 latency, calls,
// errors, plugboard's RSS, its open descriptors and its child processes; at the end it checks
// that errors are zero and that RSS and descriptors stayed flat.
//
// With --kill-core-every, plugboard runs its core as a child ([core] isolate = true) and the
// soak kills the core (SIGKILL) at that interval. Then the only errors allowed are the answers
// to calls in flight at a kill, each naming the stopped core; any other error, and any call
// not answered within 30 s, fails the soak.
//
// Usage: node Benchmarks/soak.mjs [--binary PATH] [--duration 10m] [--period 1m]
//                                 [--concurrency 4] [--edit-every 5s] [--bytes 1024]
//                                 [--kill-core-every 0s]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const options = { binary: ".build/release/plugboard", duration: "10m", period: "1m", concurrency: "4", "edit-every": "5s", bytes: "1024", "kill-core-every": "0s" };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "");
  if (!(key in options)) {
    console.error(`unknown option ${process.argv[i]}; options: ${Object.keys(options).map((k) => "--" + k).join(" ")}`);
    process.exit(2);
  }
  options[key] = process.argv[i + 1];
}
const seconds = (text) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? "s"];
};
const duration = seconds(options.duration) * 1000;
const period = seconds(options.period) * 1000;
const editEvery = seconds(options["edit-every"]) * 1000;
const concurrency = Number(options.concurrency);
const bytes = Number(options.bytes);
const killEvery = seconds(options["kill-core-every"]) * 1000;

const root = resolve(new URL("..", import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), "plugboard-soak-"));
const plugins = join(work, "plugins.d");
const etc = join(work, "etc");
for (const dir of [plugins, etc]) mkdirSync(dir, { recursive: true });

function savePlugin(version) {
  writeFileSync(join(plugins, ".tag.tmp"), `export default (input) => ({ text: input.rawContent, metadata: { version: ${version} } })\n`);
  renameSync(join(plugins, ".tag.tmp"), join(plugins, "tag.mjs"));
}
function saveConfig(withSpare) {
  const server = (name) => `[servers.${name}]\ncommand = "node"\nargs = ["${join(root, "contrib/demo-server/server.mjs")}"]\nhealth_check_interval = "5s"\n`;
  writeFileSync(join(etc, ".plugboard.tmp"), `plugins_dir = "${plugins}"
${killEvery > 0 ? "[core]\nisolate = true\n" : ""}[log]
level = "warning"
[expose]
mode = "aggregate"
${server("demo")}
[[servers.demo.plugins.response]]
plugin = "tag"
tools = ["payload"]
${withSpare ? server("spare") : ""}`);
  renameSync(join(etc, ".plugboard.tmp"), join(etc, "plugboard.toml"));
}
savePlugin(0);
saveConfig(false);

const child = spawn(resolve(options.binary), ["run", "--config", etc], { stdio: ["pipe", "pipe", "inherit"] });
const pending = new Map();
let nextID = 1;
let buffered = "";
child.stdout.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    const message = JSON.parse(line);
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      waiter(message);
    }
  }
});
const answerTimeout = 30_000;
const request = (method, params) =>
  new Promise((resolveAnswer) => {
    const id = nextID++;
    const timer = setTimeout(() => {
      pending.delete(id);
      resolveAnswer({ id, unanswered: true });
    }, answerTimeout);
    pending.set(id, (message) => {
      clearTimeout(timer);
      resolveAnswer(message);
    });
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
  });

// The ids in flight at each kill of the core: their error answers are the ones owed.
const heldAtKill = new Set();
const kills = { count: 0, heldCalls: 0, answeredWithErrors: 0 };
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
function killCore() {
  const core = childrenOf(child.pid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--config");
    } catch {
      return false;
    }
  });
  if (!core) return;
  for (const id of pending.keys()) heldAtKill.add(id);
  kills.count++;
  kills.heldCalls += pending.size;
  process.kill(core, "SIGKILL");
  // Nothing is sent until the core has died, its descriptors closed (the last of its threads
  // gone, not only the first): a line written to a dying core is as held as one it was reading.
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    try {
      const state = readFileSync(`/proc/${core}/stat`, "utf8").split(") ")[1]?.[0];
      if (state === "Z" && readdirSync(`/proc/${core}/task`).length <= 1) break;
    } catch {
      break;
    }
  }
}

function sample() {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
  const descriptors = readdirSync(`/proc/${child.pid}/fd`).length;
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).length;
  return { rss, descriptors, children };
}
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

await request("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "soak", version: "1" } });
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");

const started = Date.now();
let window = { latencies: [], errors: 0 };
const totals = { calls: 0, errors: 0, edits: 0 };
const samples = [];
let running = true;

async function worker() {
  while (running) {
    const begin = process.hrtime.bigint();
    const answer = await request("tools/call", { name: "demo__payload", arguments: { bytes } });
    const micros = Number(process.hrtime.bigint() - begin) / 1000;
    totals.calls++;
    const text = answer.result?.content?.[0]?.text;
    if (answer.error && heldAtKill.has(answer.id) && /core stopped/.test(answer.error.message)) {
      kills.answeredWithErrors++;
    } else if (answer.unanswered || answer.error || answer.result?.isError || text?.length !== bytes) {
      totals.errors++;
      window.errors++;
      if (totals.errors <= 5) console.error("error:", JSON.stringify(answer).slice(0, 300));
    } else {
      window.latencies.push(micros);
    }
  }
}

let version = 0;
const editor = setInterval(() => {
  totals.edits++;
  if (totals.edits % 2) savePlugin(++version);
  else saveConfig(totals.edits % 4 === 2);
}, editEvery);

console.log("| t (s) | calls | errors | p50 µs | p99 µs | RSS MiB | fds | children |");
console.log("|---|---|---|---|---|---|---|---|");
const reporter = setInterval(() => {
  const sorted = window.latencies.sort((a, b) => a - b);
  const state = sample();
  samples.push(state);
  const t = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`| ${t} | ${sorted.length + window.errors} | ${window.errors} | ${percentile(sorted, 50).toFixed(0)} | ${percentile(sorted, 99).toFixed(0)} | ${(state.rss / 1048576).toFixed(1)} | ${state.descriptors} | ${state.children} |`);
  window = { latencies: [], errors: 0 };
}, period);

const killer = killEvery > 0 ? setInterval(killCore, killEvery) : undefined;
const workers = Array.from({ length: concurrency }, worker);
await new Promise((done) => setTimeout(done, duration));
running = false;
clearInterval(editor);
clearInterval(reporter);
clearInterval(killer);
await Promise.all(workers);
child.stdin.end();
const exitCode = await new Promise((done) => child.on("exit", (code) => done(code)));
rmSync(work, { recursive: true, force: true });

// Flat means: the last samples are within a margin of the first ones after warm-up.
const settled = samples.slice(Math.min(1, samples.length - 1));
const first = settled[0];
const last = settled[settled.length - 1];
const problems = [];
if (totals.errors > 0) problems.push(`${totals.errors} errors`);
if (exitCode !== 0) problems.push(`plugboard exited with ${exitCode}`);
if (first && last) {
  if (last.descriptors > first.descriptors + 4) problems.push(`descriptors grew from ${first.descriptors} to ${last.descriptors}`);
  if (last.rss > first.rss * 1.5 + 16 * 1048576) problems.push(`RSS grew from ${(first.rss / 1048576).toFixed(1)} to ${(last.rss / 1048576).toFixed(1)} MiB`);
}
console.log(`\n${totals.calls} calls, ${totals.errors} errors, ${totals.edits} edits (plugin rewrites and server add/remove) in ${(duration / 1000).toFixed(0)} s; plugboard exited ${exitCode}`);
if (killEvery > 0) {
  console.log(`core killed ${kills.count} times with ${kills.heldCalls} calls in flight; ${kills.answeredWithErrors} answered with the core's error, the rest served`);
}
if (problems.length) {
  console.log(`SOAK FAILED: ${problems.join("; ")}`);
  process.exit(1);
}
console.log("soak passed: no errors, RSS and descriptors flat");
