#!/usr/bin/env node
// The floor under the plugin hop: one warm plugin host (Sources/Plugins/plugin-host.mjs) running
// Benchmarks/fixtures/plugins/rewrite.mjs, driven straight over its socketpair by this Node
// process, sequential calls, no plugboard in between. Compare its p50 with the plugin hop's Δp50
// in Benchmarks/plugins: the issue asks that the hop cost at most twice this round trip.
//   node Benchmarks/worker-roundtrip.mjs [--iterations 3000] [--json]
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const iterations = argument("--iterations", 3000);
const json = process.argv.includes("--json");

const child = spawn(process.execPath, [join(root, "Sources/Plugins/plugin-host.mjs")], {
  stdio: ["ignore", "inherit", "inherit", "pipe"],
  env: { PATH: process.env.PATH, PLUGBOARD_PLUGIN: join(root, "Benchmarks/fixtures/plugins/rewrite.mjs"), PLUGBOARD_PLUGIN_NAME: "rewrite" },
});
const channel = child.stdio[3];
channel.setEncoding("utf8");
let buffered = "";
let waiting = null;
channel.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) !== -1) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    const resolve = waiting;
    waiting = null;
    resolve?.(line);
  }
});
const nextLine = () => new Promise((resolve) => (waiting = resolve));

await nextLine(); // ready
const rows = [];
for (const size of [1024, 51200]) {
  const text = "x".repeat(size);
  // As plugboard sends a pool-mode response input: the result, and rawContent left to the host.
  const input = {
    toolName: "payload", maxTokens: null, method: "tools/call", arguments: { bytes: size }, config: {},
    metadata: { requestId: "b-1", timestamp: "2026-12-03T12:00:00.000Z", serverName: "demo", phase: "response", userQuery: null },
    result: { content: [{ type: "text", text }] }, context: {}, state: null,
  };
  const samples = [];
  for (let i = 0; i < iterations + 200; i++) {
    const started = process.hrtime.bigint();
    channel.write(JSON.stringify({ type: "call", id: i + 1, phase: "response", input }) + "\n");
    const answer = JSON.parse(await nextLine());
    if (answer.output?.text?.length !== size) throw new Error(`unexpected answer: ${JSON.stringify(answer).slice(0, 200)}`);
    if (i >= 200) samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  rows.push({ size, p50_us: samples[Math.floor(samples.length / 2)], p99_us: samples[Math.floor(samples.length * 0.99)] });
}
child.kill();
console.log(`raw worker round trip, rewrite.mjs, ${iterations} sequential calls per size (encode, write, host, read, parse)`);
console.log("size      p50 µs    p99 µs");
for (const row of rows) console.log(`${(row.size / 1024 + " KB").padEnd(8)} ${row.p50_us.toFixed(1).padStart(7)}  ${row.p99_us.toFixed(1).padStart(8)}`);
if (json) console.log(JSON.stringify({ benchmark: "worker-roundtrip", iterations, rows }));
