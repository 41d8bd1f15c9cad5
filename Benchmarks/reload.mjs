#!/usr/bin/env node
// Time from a plugin file's rename into plugins.d/ to the first response produced by the new
// code, over N edits, through a running `plugboard run` (inotify, debounce, canary worker,
// generation switch all included), while --load callers (4 by default, 0 for an idle proxy)
// call the plugin continuously; any error of theirs counts. Usage:
//   node Benchmarks/reload.mjs PLUGBOARD_BINARY [EDITS] [--load N] [--json]
// (--json adds one line with every number at the end).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import readline from "node:readline";

const json = process.argv.includes("--json");
const loadIndex = process.argv.indexOf("--load");
const load = loadIndex > 0 ? Number(process.argv[loadIndex + 1]) : 4;
const [binaryArgument, editsArgument] = process.argv.slice(2).filter((a, i, all) => a !== "--json" && a !== "--load" && all[i - 1] !== "--load");
const binary = resolve(binaryArgument ?? ".build/release/plugboard");
const edits = Number(editsArgument ?? 50);
const root = resolve(new URL("..", import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), "plugboard-reload-"));
const plugins = join(work, "plugins.d");
const etc = join(work, "etc");
for (const dir of [plugins, etc]) mkdirSync(dir, { recursive: true });

const pluginSource = (version) => `export default (input) => ({ text: "v${version}:" + input.rawContent })\n`;
function save(version) {
  const temporary = join(plugins, ".tag.mjs.tmp");
  writeFileSync(temporary, pluginSource(version));
  renameSync(temporary, join(plugins, "tag.mjs"));
}
save(0);
writeFileSync(
  join(etc, "plugboard.toml"),
  `plugins_dir = "${plugins}"
[log]
level = "warning"
[servers.demo]
command = "node"
args = ["${join(root, "contrib/demo-server/server.mjs")}"]
health_check_interval = "0s"
[[servers.demo.plugins.response]]
plugin = "tag"
tools = ["echo"]
`);

const child = spawn(binary, ["run", "--config", etc], { stdio: ["pipe", "pipe", "inherit"] });
const waiting = new Map();
let nextId = 1;
readline.createInterface({ input: child.stdout }).on("line", (line) => {
  const message = JSON.parse(line);
  waiting.get(message.id)?.(message);
  waiting.delete(message.id);
});
function request(method, params) {
  const id = nextId++;
  child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
  return new Promise((resolve) => waiting.set(id, resolve));
}
await request("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "reload-bench", version: "1" } });
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");

const samples = [];
let errors = 0;
let loadCalls = 0;
let loading = true;
async function caller() {
  while (loading) {
    const reply = await request("tools/call", { name: "echo", arguments: { text: "load" } });
    loadCalls++;
    if (reply.error || !/^v\d+:load$/.test(reply.result?.content?.[0]?.text ?? "")) {
      errors++;
      if (errors <= 3) console.error("load call failed:", JSON.stringify(reply).slice(0, 300));
    }
  }
}
const callers = Array.from({ length: load }, caller);
for (let version = 1; version <= edits; version++) {
  await new Promise((r) => setTimeout(r, 150)); // let the previous generation settle
  const started = process.hrtime.bigint();
  save(version);
  for (;;) {
    const reply = await request("tools/call", { name: "echo", arguments: { text: "x" } });
    if (reply.error) errors++;
    const text = reply.result?.content?.[0]?.text;
    if (text === `v${version}:x`) break;
    if (Number(process.hrtime.bigint() - started) > 10e9) throw new Error(`edit ${version} never went live`);
    await new Promise((r) => setTimeout(r, 2));
  }
  samples.push(Number(process.hrtime.bigint() - started) / 1e6);
}
loading = false;
await Promise.all(callers);
child.stdin.end();
await new Promise((r) => child.on("exit", r));
rmSync(work, { recursive: true, force: true });

samples.sort((a, b) => a - b);
const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
const p50 = pick(0.5), p99 = pick(0.99);
console.log(`plugin edit → first response from the new code, ${samples.length} edits (debounce 50 ms included), ${load} callers calling meanwhile (${loadCalls} calls)`);
console.log(`  p50 ${p50.toFixed(1)} ms (target ≤ 100: ${p50 <= 100 ? "PASS" : "MISS"})`);
console.log(`  p99 ${p99.toFixed(1)} ms (target ≤ 250: ${p99 <= 250 ? "PASS" : "MISS"})`);
console.log(`  min ${samples[0].toFixed(1)} ms, max ${samples[samples.length - 1].toFixed(1)} ms, errors: ${errors}`);
if (json) {
  const round = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    benchmark: "reload", edits: samples.length, load, load_calls: loadCalls, p50_ms: round(p50), p99_ms: round(p99),
    min_ms: round(samples[0]), max_ms: round(samples[samples.length - 1]), errors,
  }));
}
process.exit(errors === 0 ? 0 : 1);
