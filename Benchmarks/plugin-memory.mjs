#!/usr/bin/env node
// What idle plugin workers cost in memory: starts plugboard (PLUGBOARD, default the debug build)
// on a config whose demo server has curate and rewrite in its chains, min_workers = 2, once per
// isolation, lets the workers settle and answer a heartbeat, takes the status dump (SIGUSR1), and
// reads each worker's /proc/PID/smaps_rollup:
//   RSS        what `ps` shows; it counts Node's own executable and libraries, pages every worker shares
//   PSS        RSS with each shared page divided among the processes mapping it: a fair share
//   anonymous  heap, stacks and JIT code: what each further worker adds
// Target (issue 15): ≤ 40 MB per idle worker. --json adds a machine-readable line.
//   node Benchmarks/plugin-memory.mjs [--json]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const plugboard = process.env.PLUGBOARD ?? join(root, ".build/debug/plugboard");
const TARGET_MB = 40;
const json = process.argv.includes("--json");

function config(directory, isolation) {
  writeFileSync(
    join(directory, "plugboard.toml"),
    [
      `plugins_dir = "${root}/plugins.d"`,
      "[log]",
      'level = "warning"',
      "[plugins]",
      "min_workers = 2",
      `isolation = "${isolation}"`,
      "[servers.demo]",
      'command = "node"',
      `args = ["${root}/contrib/demo-server/server.mjs"]`,
      "[[servers.demo.plugins.response]]",
      'plugin = "curate"',
      "[[servers.demo.plugins.response]]",
      'plugin = "uppercase"',
      'tools = ["echo"]',
    ].join("\n") + "\n",
  );
}

function smaps(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rss: kb("Rss") / 1024, pss: kb("Pss") / 1024, anonymous: kb("Anonymous") / 1024 };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(isolation) {
  const directory = mkdtempSync(join(tmpdir(), "plugboard-memory-"));
  const statusFile = join(directory, "status.json");
  config(directory, isolation);
  const child = spawn(plugboard, ["run", "--config", directory, "--status-file", statusFile, "--no-watch"], {
    stdio: ["pipe", "ignore", "inherit"],
  });
  try {
    // Two heartbeats (every 2 s) after the workers are up: they have loaded, compiled and idled.
    await sleep(5000);
    child.kill("SIGUSR1");
    for (let i = 0; i < 100 && !existsSync(statusFile); i++) await sleep(50);
    await sleep(100);
    const status = JSON.parse(readFileSync(statusFile, "utf8"));
    const pools = status.proxy?.plugins?.pools ?? status.proxy?.plugins ?? {};
    const result = [];
    for (const [pool, data] of Object.entries(pools)) {
      if (!Array.isArray(data?.workers)) continue;
      result.push({ pool, workers: data.workers.map((worker) => ({ pid: worker.pid, ...smaps(worker.pid) })) });
    }
    return result;
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.on("exit", r));
    rmSync(directory, { recursive: true, force: true });
  }
}

const mb = (value) => value.toFixed(1).padStart(6);
const report = {};
console.log(`idle plugin workers, min_workers = 2; MB; target RSS ≤ ${TARGET_MB} MB per worker`);
console.log("isolation  pool                   pid        RSS     PSS    anon   RSS target");
for (const isolation of ["chain", "plugin"]) {
  const pools = await measure(isolation);
  report[isolation] = pools;
  for (const { pool, workers } of pools) {
    for (const worker of workers) {
      const verdict = worker.rss <= TARGET_MB ? "PASS" : "MISS";
      console.log(`${isolation.padEnd(10)} ${pool.padEnd(22)} ${String(worker.pid).padEnd(8)} ${mb(worker.rss)}  ${mb(worker.pss)}  ${mb(worker.anonymous)}   ${verdict}`);
    }
  }
  const all = pools.flatMap((p) => p.workers);
  const total = (key) => all.reduce((sum, w) => sum + w[key], 0);
  console.log(`${isolation.padEnd(10)} ${"all workers".padEnd(22)} ${String(all.length).padEnd(8)} ${mb(total("rss"))}  ${mb(total("pss"))}  ${mb(total("anonymous"))}`);
}
if (json) console.log(JSON.stringify({ benchmark: "plugin-memory", target_mb: TARGET_MB, isolations: report }));
