#!/usr/bin/env node
// Runs every benchmark ROUNDS times and writes, into OUT (docs/benchmarks by default):
//   report.md     the machine, the commands, and every figure as median (min–max) over the
//                 rounds beside its target, with a met/missed mark
//   latency.svg   p50 latency against result size: direct, plugboard, plugboard + 1 and + 5
//                 pass-through plugins (medians, min–max as error bars)
//   results.json  every number parsed from every round, for comparing two reports
// Raw output of each run goes to a temporary directory (printed at the end).
//
// Benchmarks/run is the entry point: it supplies PLUGBOARD and PLUGBOARD_BENCH (building them
// unless given). Environment:
//   ROUNDS=3           rounds; each round runs every benchmark once, in the same order
//   PIN=1              everything on CPU 0 (the scripts' own PIN, taskset for the others)
//   HTTP_DURATION=5s   each wrk run of Benchmarks/http (its default is 10 s; 5 s keeps the
//                      full report under ~20 minutes on 2 cores)
//   SOAK=2m            one soak run after the rounds (0: none)
//   ONLY=proxy,http    a subset of: json proxy plugins reload curate http soak
//   QUICK=1            tiny settings that only check that everything runs and parses; the
//                      report says so and goes to a temporary directory unless OUT is given
//   OUT=docs/benchmarks
//   FROM=docs/benchmarks/results.json   runs nothing: writes the report again from a saved run's
//                      numbers (after a change to this script's tables or plot), into FROM's folder
// Exit status 1 if any run failed, reported errors or could not be parsed (the report is
// written anyway and says which); missed targets alone do not fail it.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const FROM = env.FROM && resolve(env.FROM);
const saved = FROM ? JSON.parse(readFileSync(FROM, "utf8")) : null;
const ROUNDS = saved?.rounds ?? Math.max(1, Number(env.ROUNDS ?? 3));
const PIN = saved?.pin ?? env.PIN === "1";
const QUICK = saved?.quick ?? env.QUICK === "1";
const PLUGBOARD = env.PLUGBOARD && resolve(env.PLUGBOARD);
const PLUGBOARD_BENCH = env.PLUGBOARD_BENCH && resolve(env.PLUGBOARD_BENCH);
if (!saved && (!PLUGBOARD || !PLUGBOARD_BENCH)) {
  console.error("report.mjs: PLUGBOARD and PLUGBOARD_BENCH must name the binaries (Benchmarks/run builds them)");
  process.exit(64);
}
const OUT = resolve(env.OUT ?? (FROM ? dirname(FROM) : QUICK ? join(os.tmpdir(), "plugboard-report-quick") : join(ROOT, "docs/benchmarks")));
const ALL = ["json", "proxy", "plugins", "reload", "curate", "http", "soak"];
const ONLY = saved ? Object.keys(saved.results) : env.ONLY ? env.ONLY.split(",").map((s) => s.trim()) : ALL;
for (const name of ONLY) if (!ALL.includes(name)) { console.error(`report.mjs: ONLY: unknown benchmark ${name}; known: ${ALL.join(" ")}`); process.exit(64); }
const want = (name) => ONLY.includes(name);

// The plot's sizes; 1 KB and 50 KB are the ones the targets are stated at.
const SIZES = [1024, 10240, 51200, 204800];
const settings = QUICK
  ? { bench: ["--iterations", "60", "--warmup", "10", "--duration-ms", "300"], reloadEdits: 5, curate: ["--runs", "50", "--warmup", "2"], httpDuration: "1s", soak: "10s" }
  : { bench: [], reloadEdits: 50, curate: [], httpDuration: "5s", soak: "2m" };
settings.httpDuration = env.HTTP_DURATION ?? settings.httpDuration;
settings.soak = env.SOAK ?? settings.soak;
settings.soakPeriod = `${Math.max(5, Math.round(parseDuration(settings.soak) / 4))}s`;
if (saved) Object.assign(settings, saved.settings);
const soakSeconds = parseDuration(settings.soak);

function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(String(text));
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] ?? "s"];
}

// ------------------------------------------------------------------ the benchmarks

const shown = (path) => (path.startsWith(ROOT + "/") ? relative(ROOT, path) : path);
const binaries = { PLUGBOARD, PLUGBOARD_BENCH };
const pinned = (argv) => (PIN ? ["taskset", "-c", "0", ...argv] : argv);
const sizes = ["--sizes", SIZES.join(",")];

/// Each benchmark: how to run it and how to read its output into one round's numbers.
const BENCHMARKS = [
  { name: "json", argv: pinned([PLUGBOARD_BENCH, "json"]), parse: parseJSONBench },
  { name: "proxy", argv: ["Benchmarks/proxy", ...sizes, ...settings.bench, "--json"], env: binaries, parse: parseProxy },
  { name: "plugins", argv: ["Benchmarks/plugins", ...sizes, ...settings.bench, "--json"], env: binaries, parse: parsePlugins },
  { name: "reload", argv: pinned(["Benchmarks/reload", String(settings.reloadEdits), "--json"]), env: { PLUGBOARD }, parse: lastJSONLine("reload") },
  // curate exits 1 when it misses its target: a verdict the report draws itself, not a failure.
  { name: "curate", argv: ["Benchmarks/curate", ...settings.curate, "--json"], parse: (out) => JSON.parse(out), missStatus: 1 },
  { name: "http", argv: ["Benchmarks/http", "--json"], env: { ...binaries, DURATION: settings.httpDuration }, parse: lastJSONLine("http") },
].filter((b) => want(b.name));
const SOAK = want("soak") && soakSeconds > 0
  ? { name: "soak", argv: pinned(["Benchmarks/soak", "--duration", settings.soak, "--period", settings.soakPeriod]), env: { PLUGBOARD }, parse: parseSoak }
  : null;
// The scripts that take PIN themselves get it through the environment.
for (const b of [...BENCHMARKS, SOAK].filter(Boolean)) if (PIN) b.env = { ...b.env, PIN: "1" };

function commandLine(b) {
  if (saved) return saved.commands[b.name];
  const assignments = Object.entries(b.env ?? {}).map(([k, v]) => `${k}=${shown(v)}`);
  return [...assignments, ...b.argv.map(shown)].join(" ");
}

function parseJSONBench(out) {
  const rows = {};
  for (const line of out.split("\n")) {
    const match = /^(\S.*?)\s{2,}([\d.]+)\s+([\d.]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const target = /([\d.]+)\s*$/.exec(match[4]);
    rows[match[1]] = { median_us: Number(match[2]), p99_us: Number(match[3]), target_us: target ? Number(target[1]) : null };
  }
  if (Object.keys(rows).length < 4) throw new Error("fewer than 4 rows in plugboard-bench json's table");
  return rows;
}

function jsonLines(out) {
  return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
function lastJSONLine(benchmark) {
  return (out) => {
    const found = jsonLines(out).filter((o) => o.benchmark === benchmark).pop();
    if (!found) throw new Error(`no {"benchmark":"${benchmark}"} line in the output`);
    return found;
  };
}
/// The lean client's run (plugboard-bench), with the asyncio client's beside it as `asyncio`.
function parseProxy(out) {
  const lean = lastJSONLine("proxy")(out);
  const asyncio = jsonLines(out).filter((o) => o.benchmark === "proxy-asyncio").pop();
  return asyncio ? { ...lean, asyncio } : lean;
}
// One plugin adds ≤ 150 µs at 1 KB and ≤ 500 µs at 50 KB; a chain of five ≤ 1.5× one.
const CHAINS = [
  { key: "passthrough-1", title: "1 pass-through plugin", p50: { 1024: 150, 51200: 500 } },
  { key: "passthrough-5", title: "5 pass-through plugins", p50: { 1024: 225, 51200: 750 } },
  { key: "rewrite-1", title: "1 rewriting plugin", p50: { 1024: 150, 51200: 500 } },
  { key: "rewrite-5", title: "5 rewriting plugins", p50: { 1024: 225, 51200: 750 } },
  { key: "rewrite-5-isolated", title: "5 rewriting plugins, isolation = plugin (reported, no target)", p50: {} },
];
function parsePlugins(out) {
  const runs = jsonLines(out).filter((o) => o.benchmark === "proxy");
  const result = {};
  for (const chain of CHAINS) {
    const run = runs.find((r) => r.title === `${chain.title} vs no plugins`);
    if (run) result[chain.key] = run;
  }
  if (Object.keys(result).length !== CHAINS.length) throw new Error(`found ${Object.keys(result).length} of ${CHAINS.length} comparisons`);
  const asyncio = jsonLines(out).filter((o) => o.benchmark === "proxy-asyncio").pop();
  if (asyncio) result.asyncio = asyncio;
  const memory = jsonLines(out).filter((o) => o.benchmark === "plugin-memory").pop();
  if (memory) result.memory = memory;
  return result;
}
function parseSoak(out) {
  const periods = [];
  for (const line of out.split("\n")) {
    const cells = line.split("|").map((c) => c.trim()).filter((c, i, all) => i > 0 && i < all.length - 1);
    if (cells.length === 8 && /^\d+$/.test(cells[0])) {
      const [t, calls, errors, p50, p99, rss, fds, children] = cells.map(Number);
      periods.push({ t, calls, errors, p50_us: p50, p99_us: p99, rss_mib: rss, fds, children });
    }
  }
  const summary = /^(\d+) calls, (\d+) errors, (\d+) edits .* plugboard exited (\S+)$/m.exec(out);
  if (!summary || periods.length === 0) throw new Error("no soak table or summary line");
  const failed = /^SOAK FAILED: (.*)$/m.exec(out);
  return { periods, calls: Number(summary[1]), errors: Number(summary[2]), edits: Number(summary[3]), exit: summary[4], passed: !failed, problems: failed?.[1] ?? null };
}

// ------------------------------------------------------------------ running

const RUN_TIMEOUT_MS = 15 * 60 * 1000;
let current = null;
const stop = (child) => { try { process.kill(-child.pid, "SIGTERM"); } catch {} };
// Runs are detached from the terminal's process group: pass an interrupt on to the current one.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => { if (current) stop(current); process.exit(130); });
const logs = saved ? null : mkdtempSync(join(os.tmpdir(), "plugboard-report-logs-"));
const progress = (text) => process.stderr.write(`[report ${clock()}] ${text}\n`);
const started = Date.now();
const clock = () => { const s = Math.round((Date.now() - started) / 1000); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; };

/// The share of all CPUs busy over `ms`, from /proc/stat: measured between runs, when nothing of
/// ours is running, it is what the rest of the machine is doing (the load average would mostly
/// show the previous benchmark).
async function busyShare(ms = 1000) {
  const sample = () => {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { idle: fields[3] + fields[4], total: fields.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

async function run(b, round) {
  const busy = await busyShare();
  return new Promise((done) => {
    const begin = Date.now();
    const load = os.loadavg()[0];
    // Its own process group, so that a run that hangs can be stopped with everything it started.
    const child = spawn(b.argv[0], b.argv.slice(1), { cwd: ROOT, env: { ...env, ...b.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const timeout = setTimeout(() => stop(child), RUN_TIMEOUT_MS);
    current = child;
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => {
      clearTimeout(timeout);
      const seconds = (Date.now() - begin) / 1000;
      writeFileSync(join(logs, `${b.name}-${round}.log`), `$ ${commandLine(b)}\n# exit ${code ?? signal}, ${seconds.toFixed(1)} s\n\n${stdout}\n--- stderr\n${stderr}`);
      let data = null, problem = null;
      try { data = b.parse(stdout); } catch (error) { problem = `could not read its output: ${error.message}`; }
      if (code !== 0 && !problem && !(data && code === b.missStatus)) problem = `exited with ${code ?? signal}`;
      // plugboard and the scripts log at warning level: anything they say is worth a line in the report.
      const warnings = stderr.split("\n").filter((l) => /\b(WARNING|ERROR|FAILED)\b/.test(l));
      done({ round, seconds, load, busy, exit: code ?? signal, data, problem, warnings, log: join(logs, `${b.name}-${round}.log`) });
    });
  });
}

const machine = saved?.machine ?? describeMachine();
const results = saved?.results ?? Object.fromEntries([...BENCHMARKS, SOAK].filter(Boolean).map((b) => [b.name, []]));
if (saved) {
  machine.rendered = new Date().toISOString();
  progress(`writing the report again from ${shown(FROM)}, measured ${machine.started}; nothing is run`);
} else {
  await measure();
  const tools = new Map(toolRows());
  machine.rows = machine.rows.map(([name, value]) => [name, tools.get(name) ?? value]);
}

async function measure() {
  progress(`${ROUNDS} round(s) of ${BENCHMARKS.map((b) => b.name).join(", ")}${SOAK ? `, then a ${settings.soak} soak` : ""}${QUICK ? " (QUICK settings)" : ""}; logs in ${logs}`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const b of BENCHMARKS) {
      progress(`round ${round}/${ROUNDS}: ${b.name}: ${commandLine(b)}`);
      const outcome = await run(b, round);
      results[b.name].push(outcome);
      progress(`  ${b.name} took ${outcome.seconds.toFixed(0)} s${outcome.problem ? `: ${outcome.problem} (see ${outcome.log})` : ""}`);
    }
  }
  if (SOAK) {
    progress(`soak: ${commandLine(SOAK)}`);
    const outcome = await run(SOAK, 1);
    results.soak.push(outcome);
    progress(`  soak took ${outcome.seconds.toFixed(0)} s${outcome.problem ? `: ${outcome.problem}` : ""}`);
  }
  machine.finished = new Date().toISOString();
  machine.loadEnd = os.loadavg();
  machine.totalSeconds = (Date.now() - started) / 1000;
}

// ------------------------------------------------------------------ numbers

/// Median (mean of the middle two for an even count), min and max; null when there are none.
function stat(values) {
  // +∞ stays (a ratio over an added latency of ≤ 0); NaN and missing values do not.
  const v = values.filter((x) => typeof x === "number" && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], n: v.length, values: v };
}
const rounds = (name) => results[name]?.filter((r) => r.data).map((r) => r.data) ?? [];
const sizeLabel = (n) => (n % 1024 === 0 ? `${n / 1024} KB` : `${n} B`);

function number(x, unit = "") {
  if (x === Infinity) return "∞" + unit;
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const abs = Math.abs(x);
  const text = abs >= 1000 ? Math.round(x).toLocaleString("en-US") : abs >= 100 ? x.toFixed(0) : abs >= 10 ? x.toFixed(1) : x.toFixed(2);
  return text + unit;
}
const signed = (x, unit) => (x > 0 ? "+" : "") + number(x, unit);
/// "median (min–max)", or the single value of a one-round run.
function range(s, format = number, unit = "") {
  if (!s) return "—";
  if (s.n === 1 || s.min === s.max) return format(s.median, unit);
  return `${format(s.median, unit)} (${format(s.min)} – ${format(s.max, unit)})`;
}

/// A figure with a target: the verdict is the median's; how many rounds met it is beside it.
const targeted = [];
function judge(section, figure, s, target, { unit = "", format = number, show } = {}) {
  const row = { section, figure, target: target.text, value: show ? show(s) : range(s, format, unit) };
  if (!s) Object.assign(row, { verdict: "no data", met: null, roundsMet: "—" });
  else {
    const met = target.passes(s.median);
    Object.assign(row, { verdict: met ? "met" : "**missed**", met, roundsMet: `${s.values.filter(target.passes).length}/${s.n}` });
  }
  targeted.push(row);
  return row;
}
const limitText = (x) => (Number.isInteger(x) ? x.toLocaleString("en-US") : String(x));
const atMost = (limit, unit) => ({ text: `≤ ${limitText(limit)}${unit}`, passes: (x) => x <= limit });
const below = (limit, unit) => ({ text: `< ${limitText(limit)}${unit}`, passes: (x) => x < limit });
const atLeast = (limit, unit) => ({ text: `≥ ${limitText(limit)}${unit}`, passes: (x) => x >= limit });

const md = [];
const line = (text = "") => md.push(text);
const table = (header, rows) => {
  line(`| ${header.join(" | ")} |`);
  line(`|${header.map((h, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const r of rows) line(`| ${r.join(" | ")} |`);
  line();
};

// Sections are built first (they register the targeted figures), the summary goes on top.
const sections = [];
const notes = [];
function section(build) {
  const start = md.length;
  build();
  sections.push(md.splice(start));
}

// JSON hot paths
section(() => {
  const data = rounds("json");
  if (!data.length) return;
  line("## JSON hot paths");
  line();
  line("`plugboard-bench json`: in-process, µs per operation; each round's median and p99 over 2000 samples (500 for Foundation).");
  line();
  const rows = [];
  for (const name of Object.keys(data[0])) {
    const median = stat(data.map((d) => d[name]?.median_us));
    const p99 = stat(data.map((d) => d[name]?.p99_us));
    const target = data[0][name].target_us;
    let verdict = "—";
    if (target !== null) verdict = judge("JSON", `${name} (median µs)`, median, below(target, " µs")).verdict;
    rows.push([name, target === null ? "—" : `< ${limitText(target)}`, range(median), range(p99), verdict]);
  }
  table(["operation", "target µs", "median µs", "p99 µs", "verdict"], rows);
});

// Proxy overhead, for both clients (issue targets: Δp50 ≤ 40 µs at 1 KB and ≤ 100 µs at
// 50 KB, throughput ≥ 85% of direct, plugboard's CPU ≤ 25 µs per call at 1 KB).
const PROXY_P50_TARGETS = { 1024: 40, 51200: 100 };
const PROXY_THROUGHPUT_FLOOR = 85;
const PROXY_CPU_TARGETS = { 1024: 25 };
const proxyData = rounds("proxy");
const comparisonAt = (run, size) => run.comparison.find((c) => c.size === size);
const measurementOf = (run, index, size) => run.targets[index].results.find((r) => r.size === size);
section(() => {
  if (!proxyData.length) return;
  const iterations = proxyData[0].iterations, warmup = proxyData[0].warmup, inFlight = proxyData[0].in_flight, ms = proxyData[0].duration_ms;
  line("## Proxy overhead: the demo server direct and through `plugboard run`");
  line();
  line(`\`Benchmarks/proxy\`: ${iterations} sequential \`tools/call\`s per size after ${warmup} warm-up, alternating between the two; throughput with ${inFlight} in flight for ${ms} ms. Δ is plugboard minus direct within the same round.`);
  line();
  const rows = [];
  for (const size of SIZES) {
    if (!comparisonAt(proxyData[0], size)) continue;
    const dp50 = stat(proxyData.map((r) => comparisonAt(r, size).delta_p50_us));
    const dp99 = stat(proxyData.map((r) => comparisonAt(r, size).delta_p99_us));
    const ratio = stat(proxyData.map((r) => comparisonAt(r, size).throughput_ratio * 100));
    const targets = PROXY_P50_TARGETS;
    let p50Verdict = "—", ratioVerdict = "—";
    if (targets[size]) {
      p50Verdict = judge("proxy", `own client: Δp50 at ${sizeLabel(size)}`, dp50, atMost(targets[size], " µs"), { format: signed, unit: " µs" }).verdict;
      ratioVerdict = judge("proxy", `own client: throughput at ${sizeLabel(size)}, % of direct`, ratio, atLeast(PROXY_THROUGHPUT_FLOOR, "%"), { unit: "%" }).verdict;
    }
    const cpu = stat(proxyData.map((r) => measurementOf(r, 1, size).cpu_us_per_call));
    let cpuVerdict = "—";
    if (PROXY_CPU_TARGETS[size]) cpuVerdict = judge("proxy", `own client: plugboard CPU per call at ${sizeLabel(size)}`, cpu, atMost(PROXY_CPU_TARGETS[size], " µs"), { unit: " µs" }).verdict;
    rows.push([
      sizeLabel(size),
      range(stat(proxyData.map((r) => measurementOf(r, 0, size).p50_us))),
      range(stat(proxyData.map((r) => measurementOf(r, 1, size).p50_us))),
      range(dp50, signed), targets[size] ? `≤ ${targets[size]} ${p50Verdict}` : "—",
      range(dp99, signed),
      range(stat(proxyData.map((r) => measurementOf(r, 0, size).throughput_calls_per_s))),
      range(stat(proxyData.map((r) => measurementOf(r, 1, size).throughput_calls_per_s))),
      range(ratio, number, "%"), targets[size] ? `≥ ${PROXY_THROUGHPUT_FLOOR}% ${ratioVerdict}` : "—",
      range(cpu), PROXY_CPU_TARGETS[size] ? `≤ ${PROXY_CPU_TARGETS[size]} ${cpuVerdict}` : "—",
    ]);
  }
  line("The project's own client (`plugboard-bench proxy`, Swift, one blocking reader):");
  line();
  table(["size", "direct p50 µs", "plugboard p50 µs", "Δp50 µs", "target", "Δp99 µs", "direct calls/s", "plugboard calls/s", "throughput", "target", "plugboard CPU µs/call", "target"], rows);
  const asyncioData = proxyData.map((r) => r.asyncio).filter(Boolean);
  if (asyncioData.length) {
    const a = asyncioData[0];
    line(`An asyncio client like the official Python SDK's (\`Benchmarks/asyncio-client.py\`: one reader task, futures by id, json per message), what users run: ${a.iterations} sequential calls per size after ${a.warmup} warm-up, alternating; throughput with ${a.in_flight} in flight for ${a.duration_ms} ms. CPU µs/call is plugboard's own (its core's included), from /proc, over the throughput phase.`);
    line();
    const resultOf = (run, target, size) => run.asyncio.find((r) => r.target === target && r.size === size);
    const compared = (run, size) => run.comparison.find((c) => c.size === size);
    const asyncioRows = [];
    for (const size of [...new Set(a.asyncio.map((r) => r.size))].sort((x, y) => x - y)) {
      const dp50 = stat(asyncioData.map((r) => compared(r, size)?.delta_p50_us));
      const ratio = stat(asyncioData.map((r) => compared(r, size)?.throughput_ratio * 100));
      const cpu = stat(asyncioData.map((r) => compared(r, size)?.cpu_us_per_call));
      const verdicts = ["—", "—", "—"];
      if (PROXY_P50_TARGETS[size]) {
        verdicts[0] = judge("proxy", `asyncio client: Δp50 at ${sizeLabel(size)}`, dp50, atMost(PROXY_P50_TARGETS[size], " µs"), { format: signed, unit: " µs" }).verdict;
        verdicts[1] = judge("proxy", `asyncio client: throughput at ${sizeLabel(size)}, % of direct`, ratio, atLeast(PROXY_THROUGHPUT_FLOOR, "%"), { unit: "%" }).verdict;
      }
      if (PROXY_CPU_TARGETS[size]) verdicts[2] = judge("proxy", `asyncio client: plugboard CPU per call at ${sizeLabel(size)}`, cpu, atMost(PROXY_CPU_TARGETS[size], " µs"), { unit: " µs" }).verdict;
      asyncioRows.push([
        sizeLabel(size),
        range(stat(asyncioData.map((r) => resultOf(r, "direct", size)?.p50_us))),
        range(stat(asyncioData.map((r) => resultOf(r, "plugboard", size)?.p50_us))),
        range(dp50, signed), PROXY_P50_TARGETS[size] ? `≤ ${PROXY_P50_TARGETS[size]} ${verdicts[0]}` : "—",
        range(stat(asyncioData.map((r) => resultOf(r, "direct", size)?.calls_per_s))),
        range(stat(asyncioData.map((r) => resultOf(r, "plugboard", size)?.calls_per_s))),
        range(ratio, number, "%"), PROXY_P50_TARGETS[size] ? `≥ ${PROXY_THROUGHPUT_FLOOR}% ${verdicts[1]}` : "—",
        range(cpu), PROXY_CPU_TARGETS[size] ? `≤ ${PROXY_CPU_TARGETS[size]} ${verdicts[2]}` : "—",
      ]);
    }
    table(["size", "direct p50 µs", "plugboard p50 µs", "Δp50 µs", "target", "direct calls/s", "plugboard calls/s", "throughput", "target", "plugboard CPU µs/call", "target"], asyncioRows);
  }
  line("Targets are stated at 1 KB and 50 KB; 10 KB and 200 KB are measured for the plot. Δp99 has no target (see [noise](../performance.md#noise)).");
  line();
});

// The plot
const pluginData = rounds("plugins");
const series = [];
if (proxyData.length) {
  series.push({ name: "direct (demo server on stdio)", legend: "direct (stdio)", color: "#4d4d4d", marker: "circle", points: SIZES.map((s) => [s, stat(proxyData.map((r) => measurementOf(r, 0, s)?.p50_us))]) });
  series.push({ name: "through plugboard", legend: "plugboard", color: "#1f77b4", marker: "square", points: SIZES.map((s) => [s, stat(proxyData.map((r) => measurementOf(r, 1, s)?.p50_us))]) });
}
if (pluginData.length) {
  series.push({ name: "plugboard + 1 pass-through plugin", legend: "plugboard + 1 plugin", color: "#ff7f0e", marker: "triangle", points: SIZES.map((s) => [s, stat(pluginData.map((r) => measurementOf(r["passthrough-1"], 1, s)?.p50_us))]) });
  series.push({ name: "plugboard + 5 pass-through plugins", legend: "plugboard + 5 plugins", color: "#d62728", marker: "diamond", points: SIZES.map((s) => [s, stat(pluginData.map((r) => measurementOf(r["passthrough-5"], 1, s)?.p50_us))]) });
}
section(() => {
  if (!series.length) return;
  line("## Latency against result size");
  line();
  line(`![p50 latency of one tools/call against result size, log-log](latency.svg)`);
  line();
  line(`p50 of one \`tools/call\` (client-observed, nothing else in flight), median over ${ROUNDS} round(s); the bars span the rounds' min–max. Direct and plugboard come from \`Benchmarks/proxy\`, the plugin chains from \`Benchmarks/plugins\` (pass-through comparisons), each with the same 4 sizes.`);
  line();
  table(["series", ...SIZES.map((s) => `${sizeLabel(s)} p50 µs`)], series.map((s) => [s.name, ...s.points.map(([, st]) => range(st))]));
});

// Plugins
section(() => {
  if (!pluginData.length) return;
  const first = pluginData[0]["passthrough-1"];
  line("## Plugin chains: plugboard with no plugins against 1 and 5 plugins");
  line();
  line(`\`Benchmarks/plugins\`: four comparisons, each against a fresh plugboard without plugins (\`min_workers = 2\`), ${first.iterations} sequential calls per size after ${first.warmup} warm-up, throughput with ${first.in_flight} in flight for ${first.duration_ms} ms (a ratio, no target). Pass-through plugins return \`null\` (no change); rewriting ones send the text back. The targets are the issue's pass-through budgets, which the script applies to rewriting chains too.`);
  line();
  const rows = [];
  for (const chain of CHAINS) {
    for (const size of SIZES) {
      if (!comparisonAt(pluginData[0][chain.key], size)) continue;
      const dp50 = stat(pluginData.map((r) => comparisonAt(r[chain.key], size).delta_p50_us));
      const dp99 = stat(pluginData.map((r) => comparisonAt(r[chain.key], size).delta_p99_us));
      const ratio = stat(pluginData.map((r) => comparisonAt(r[chain.key], size).throughput_ratio * 100));
      const limit = chain.p50[size];
      const verdict = limit ? judge("plugins", `${chain.title}: Δp50 at ${sizeLabel(size)}`, dp50, atMost(limit, " µs"), { format: signed, unit: " µs" }).verdict : null;
      rows.push([
        chain.title, sizeLabel(size),
        range(stat(pluginData.map((r) => measurementOf(r[chain.key], 0, size).p50_us))),
        range(stat(pluginData.map((r) => measurementOf(r[chain.key], 1, size).p50_us))),
        range(dp50, signed), limit ? `≤ ${number(limit)} ${verdict}` : "—", range(dp99, signed), range(ratio, number, "%"),
      ]);
    }
  }
  table(["chain", "size", "no plugins p50 µs", "with chain p50 µs", "Δp50 µs", "target", "Δp99 µs", "throughput vs no plugins"], rows);
  const asyncioData = pluginData.map((r) => r.asyncio).filter(Boolean);
  if (!asyncioData.length) return;
  line("The asyncio client (like the official Python SDK's), the same servers, no plugins against 1 and 5 rewriting plugins:");
  line();
  const asyncioRows = [];
  for (const [key, title, limits] of [["rewrite-1", "1 rewriting plugin", CHAINS[2].p50], ["rewrite-5", "5 rewriting plugins", CHAINS[3].p50]]) {
    for (const size of [1024, 51200]) {
      const compared = (run) => run.comparison.find((c) => c.target === key && c.size === size);
      if (!compared(asyncioData[0])) continue;
      const dp50 = stat(asyncioData.map((r) => compared(r)?.delta_p50_us));
      const ratio = stat(asyncioData.map((r) => compared(r)?.throughput_ratio * 100));
      const verdict = judge("plugins", `asyncio client: ${title}: Δp50 at ${sizeLabel(size)}`, dp50, atMost(limits[size], " µs"), { format: signed, unit: " µs" }).verdict;
      const ratioVerdict = key === "rewrite-1" ? judge("plugins", `asyncio client: throughput with 1 plugin at ${sizeLabel(size)}, % of no plugins`, ratio, atLeast(60, "%"), { unit: "%" }).verdict : "—";
      asyncioRows.push([title, sizeLabel(size), range(dp50, signed), `≤ ${number(limits[size])} ${verdict}`, range(ratio, number, "%"), key === "rewrite-1" ? `≥ 60% ${ratioVerdict}` : "—"]);
    }
  }
  table(["chain", "size", "Δp50 µs", "target", "throughput vs no plugins", "target"], asyncioRows);
  const memoryData = pluginData.map((r) => r.memory).filter(Boolean);
  if (!memoryData.length) return;
  line();
  line(`Idle workers' memory (\`Benchmarks/plugin-memory.mjs\`: curate and uppercase on one server, \`min_workers = 2\`, read from /proc/PID/smaps_rollup after two heartbeats). RSS counts Node's executable and libraries, which every worker shares; PSS divides shared pages among the processes that map them; anonymous memory is what each further worker adds. MB:`);
  line();
  const memoryRows = [];
  for (const isolation of ["chain", "plugin"]) {
    const workers = (run) => (run.isolations[isolation] ?? []).flatMap((pool) => pool.workers);
    const pools = (memoryData[0].isolations[isolation] ?? []).map((pool) => pool.pool).join(", ");
    const per = (key) => stat(memoryData.map((run) => Math.max(...workers(run).map((w) => w[key]))));
    const total = (key) => stat(memoryData.map((run) => workers(run).reduce((sum, w) => sum + w[key], 0)));
    const rss = per("rss");
    const verdict = judge("plugins", `idle worker RSS, isolation = ${isolation}`, rss, atMost(memoryData[0].target_mb, " MB"), { unit: " MB" }).verdict;
    memoryRows.push([
      `\`${isolation}\`: ${pools}`, String(workers(memoryData[0]).length), range(rss), `≤ ${memoryData[0].target_mb} ${verdict}`, range(per("pss")),
      range(per("anonymous")), range(total("rss")), range(total("pss")),
    ]);
  }
  table(["isolation: pools", "workers", "RSS per worker", "target", "PSS per worker", "anonymous per worker", "RSS, all", "PSS, all"], memoryRows);
});

// Reload
section(() => {
  const data = rounds("reload");
  if (!data.length) return;
  line("## Reload latency");
  line();
  line(`\`Benchmarks/reload\`: ${data[0].edits} edits per round; from a plugin file renamed into \`plugins.d/\` to the first response produced by the new code (inotify, 50 ms debounce, canary worker, generation switch), while ${data[0].load ?? 0} callers call the plugin continuously. ms.`);
  line();
  const p50 = stat(data.map((d) => d.p50_ms)), p99 = stat(data.map((d) => d.p99_ms));
  const load = data[0].load ?? 0;
  const v50 = judge("reload", `reload p50, ${load} callers calling`, p50, atMost(100, " ms"), { unit: " ms" }).verdict;
  const v99 = judge("reload", `reload p99, ${load} callers calling`, p99, atMost(250, " ms"), { unit: " ms" }).verdict;
  table(["figure", "median (min – max) over rounds", "target", "verdict"], [
    ["p50 ms", range(p50), "≤ 100", v50],
    ["p99 ms", range(p99), "≤ 250", v99],
    ["fastest edit, ms", range(stat(data.map((d) => d.min_ms))), "—", "—"],
    ["slowest edit, ms", range(stat(data.map((d) => d.max_ms))), "—", "—"],
    ["errors (sum)", String(data.reduce((a, d) => a + d.errors, 0)), "0", data.every((d) => d.errors === 0) ? "met" : "**missed**"],
  ]);
});

// Curate
section(() => {
  const data = rounds("curate");
  if (!data.length) return;
  const r0 = data[0].results[0];
  line("## curate latency");
  line();
  line(`\`Benchmarks/curate\`: \`plugin.response()\` of \`plugins.d/curate.mjs\` in one warm Node process (${r0.warmup} warm-up calls, ${r0.runs} timed per case, per round) on documentation cut to size (Node.js and Python reference pages from \`scripts/fetch-eval-docs\`). ms.`);
  line();
  const rows = [];
  for (const c of data[0].results) {
    const pick = (key) => stat(data.map((d) => d.results.find((x) => x.case === c.case)?.[key]));
    const p50 = pick("p50");
    const verdict = c.target ? judge("curate", `${c.case}: p50`, p50, below(c.target, " ms"), { unit: " ms" }).verdict : "—";
    rows.push([c.case, number(c.bytes), range(p50), c.target ? `< ${c.target}` : "—", verdict, range(pick("p99")), `${c.tokensIn} → ${c.tokensOut}${c.budget !== undefined ? ` (budget ${c.budget})` : ""}`]);
  }
  table(["case", "bytes", "p50 ms", "target", "verdict", "p99 ms", "tokens in → out"], rows);
});

// HTTP
section(() => {
  const data = rounds("http");
  if (!data.length) return;
  const conns = data[0].connections;
  line("## Streamable HTTP frontend against mcp-proxy");
  line();
  line(`\`Benchmarks/http\` (wrk, ${data[0].duration} per run after a 2 s warm-up): \`tools/call\` of the demo server through plugboard's \`[http]\` frontend and through \`mcp-proxy\` 0.13.0 wrapping the same server. p50/p99 on one connection (one call at a time), calls/s on ${conns} keep-alive connections; \`direct\` is the demo server on stdio (plugboard-bench, ${conns} in flight), \`wrk ceiling\` HAProxy's static reply of the same size. Δp50 is the one-connection p50 minus direct's, per round.`);
  line();
  const rows = [];
  const labels = [["direct", "direct (stdio)"], ["plugboard", "plugboard HTTP"], ["mcp-proxy", "mcp-proxy"], ["wrk-ceiling", "wrk ceiling (HAProxy)"]];
  for (const [key, label] of labels) {
    for (const size of data[0].sizes) {
      const get = (d) => (key === "direct" ? d.direct[size] : d.frontends[key]?.[size]);
      if (!get(data[0])) continue;
      const pick = (f) => stat(data.map((d) => (get(d) ? f(get(d), d) : null)));
      const delta = key === "plugboard" || key === "mcp-proxy" ? pick((x, d) => x.sequential.p50_us - d.direct[size]?.p50_us) : null;
      if (key === "direct") rows.push([label, sizeLabel(size), range(pick((x) => x.p50_us)), range(pick((x) => x.p99_us)), "—", range(pick((x) => x.calls_per_s)), "—"]);
      else rows.push([label, sizeLabel(size), range(pick((x) => x.sequential.p50_us)), range(pick((x) => x.sequential.p99_us)), range(pick((x) => x.loaded.p50_us)), range(pick((x) => x.loaded.calls_per_s)), delta ? range(delta, signed) : "—"]);
    }
  }
  table(["frontend", "size", "p50 µs", "p99 µs", `p50 µs @${conns}`, `calls/s @${conns}`, "Δp50 µs vs direct"], rows);
  const targets = [];
  for (const size of data[0].sizes) {
    const throughput = stat(data.map((d) => d.frontends.plugboard?.[size]?.loaded.calls_per_s / d.frontends["mcp-proxy"]?.[size]?.loaded.calls_per_s));
    const latency = stat(data.map((d) => {
      const ours = d.frontends.plugboard?.[size]?.sequential.p50_us - d.direct[size]?.p50_us;
      const theirs = d.frontends["mcp-proxy"]?.[size]?.sequential.p50_us - d.direct[size]?.p50_us;
      return ours > 0 ? theirs / ours : Infinity;
    }));
    // The issue states the target at 1 KB; other sizes are held to it too, and say so.
    const stated = size === 1024 ? "" : " (1 KB target applied)";
    const v1 = judge("HTTP", `${sizeLabel(size)}: plugboard's calls/s @${conns} ÷ mcp-proxy's${stated}`, throughput, atLeast(10, "×"), { unit: "×" }).verdict;
    const v2 = judge("HTTP", `${sizeLabel(size)}: mcp-proxy's added p50 ÷ plugboard's${stated}`, latency, atLeast(10, "×"), { unit: "×" }).verdict;
    targets.push([`throughput @${conns}, plugboard ÷ mcp-proxy`, sizeLabel(size), range(throughput, number, "×"), "≥ 10×", v1]);
    targets.push(["added p50 latency, mcp-proxy ÷ plugboard", sizeLabel(size), range(latency, number, "×"), "≥ 10× (plugboard adds ≤ 1/10)", v2]);
  }
  table(["figure", "size", "median (min – max)", "target", "verdict"], targets);
  if (targets.some((row) => row[2].includes("∞"))) {
    line("∞: in that round plugboard's one-connection p50 was at or below direct's, so its added latency was 0 or less (direct's p50 moves by tens of µs between rounds).");
    line();
  }
});

// Soak
section(() => {
  const outcome = results.soak?.[0];
  if (!outcome?.data) return;
  const s = outcome.data;
  const first = s.periods[Math.min(1, s.periods.length - 1)], last = s.periods[s.periods.length - 1];
  line("## Soak");
  line();
  line(`\`Benchmarks/soak\`, once after the rounds (${settings.soak}, a line every ${settings.soakPeriod}): 4 calls in flight through plugboard with a 1 KB result while a plugin is rewritten and a server added and removed every 5 s. ${s.calls.toLocaleString("en-US")} calls, ${s.errors} errors, ${s.edits} edits; RSS ${first.rss_mib} → ${last.rss_mib} MiB and ${first.fds} → ${last.fds} descriptors from the second sample to the last: **${s.passed ? "passed" : "failed: " + s.problems}** (its criteria: no errors, RSS and descriptors flat).`);
  line();
  table(["t (s)", "calls", "errors", "p50 µs", "p99 µs", "RSS MiB", "fds", "children"], s.periods.map((p) => [p.t, p.calls, p.errors, p.p50_us, p.p99_us, p.rss_mib, p.fds, p.children].map(String)));
  judge("soak", "errors, RSS and descriptors flat", { median: s.passed ? 1 : 0, min: 0, max: 0, n: 1, values: [s.passed ? 1 : 0] }, { text: "no errors, flat", passes: (x) => x === 1 }, { show: () => `${s.errors} errors, RSS ${first.rss_mib} → ${last.rss_mib} MiB, fds ${first.fds} → ${last.fds}` });
});

// ------------------------------------------------------------------ problems and notes

const failures = [];
for (const [name, outcomes] of Object.entries(results)) {
  for (const o of outcomes) if (o.problem) failures.push(`${name}, round ${o.round}: ${o.problem}`);
}
const errorCount = (name, count) => {
  const total = rounds(name).reduce((a, d) => a + count(d), 0);
  return total;
};
const errorTotals = {
  proxy: errorCount("proxy", (d) => d.errors),
  plugins: errorCount("plugins", (d) => Object.values(d).reduce((a, r) => a + (r.errors ?? 0), 0)),  // the memory part has none
  reload: errorCount("reload", (d) => d.errors),
  http: errorCount("http", (d) => Object.values(d.frontends).flatMap((f) => Object.values(f)).reduce((a, x) => a + (x.sequential?.errors ?? 0) + (x.loaded?.errors ?? 0), 0) + Object.values(d.direct).reduce((a, x) => a + x.errors, 0)),
  soak: errorCount("soak", (d) => d.errors),
};

// ------------------------------------------------------------------ the report

const met = targeted.filter((t) => t.met === true).length;
const missed = targeted.filter((t) => t.met === false);
const out = [];
const w = (text = "") => out.push(text);
w("# Benchmark report");
w();
if (QUICK) { w("> **QUICK settings**: tiny iteration counts and durations that only check the scripts run. These numbers are not measurements."); w(); }
if (machine.rendered) { w(`> Tables and plot written again on ${machine.rendered.slice(0, 10)} from this run's \`results.json\` (\`FROM=\`): the numbers are the run's, unchanged.`); w(); }
w(`Written by \`Benchmarks/run\` on ${machine.started.slice(0, 10)} (${machine.started} – ${machine.finished}, ${Math.round(machine.totalSeconds / 60)} min): ${ROUNDS} round(s) of every benchmark${SOAK ? ` and one ${settings.soak} soak` : ""}${PIN ? ", everything pinned to CPU 0 (PIN=1)" : ", unpinned"}. How to read and reproduce it: [docs/performance.md](../performance.md#the-benchmark-report).`);
w();
const busyShares = Object.values(results).flat().map((o) => o.busy * 100);
const busyRuns = Object.entries(results).flatMap(([name, outcomes]) => outcomes.filter((o) => o.busy > 0.25).map((o) => `${name} round ${o.round} (${(o.busy * 100).toFixed(0)}%)`));
w(`Other work on the machine: ${busyShares.length ? `${Math.min(...busyShares).toFixed(0)}–${Math.max(...busyShares).toFixed(0)}%` : "—"} of its CPUs busy in the second before each run (median ${stat(busyShares)?.median.toFixed(0) ?? "—"}%; that second can include the previous run's processes exiting). ${busyRuns.length ? `**Busy (> 25%) before ${busyRuns.length} of ${busyShares.length} runs**: ${busyRuns.join(", ")}; read those runs' latencies as upper bounds.` : "Quiet before every run."}`);
w();
w(`Each figure is the **median over the rounds, with the range (min – max) in parentheses**; Δ figures are computed within each round first. A verdict is the median's; "rounds" says how many rounds met the target on their own. **${met} of ${targeted.length} targets met, ${missed.length} missed**${missed.length ? ": " + missed.map((m) => `${m.section} ${m.figure}`).join("; ") : ""}.`);
w();
w("## Figures against targets");
w();
w("| area | figure | median (min – max) | target | verdict | rounds |");
w("|---|---|---:|---|---|---:|");
for (const t of targeted) w(`| ${t.section} | ${t.figure} | ${t.value} | ${t.target} | ${t.verdict} | ${t.roundsMet} |`);
w();
const errorLine = Object.entries(errorTotals).filter(([name]) => results[name]).map(([name, n]) => `${name} ${n}`).join(", ");
w(`JSON-RPC / HTTP errors over all rounds: ${errorLine} (a run is only meaningful with 0).`);
w();
if (failures.length) {
  w("**Runs that failed or could not be read** (their numbers are missing from the medians):");
  w();
  for (const f of failures) w(`- ${f}`);
  w();
}

w("## Machine");
w();
w(`| | |`);
w(`|---|---|`);
for (const [k, v] of machine.rows) w(`| ${k} | ${v} |`);
w(`| load average (1/5/15 min) | at start ${machine.loadStart.map((x) => x.toFixed(2)).join(" / ")}; at end ${machine.loadEnd.map((x) => x.toFixed(2)).join(" / ")}; before each run (1 min) ${loadRange()} |`);
w();

w("## Commands");
w();
w("The whole report:");
w();
w("```sh");
w(machine.invocation);
w("```");
w();
w(`which ran, ${ROUNDS} time(s) in this order, from the repository root (binaries given, so nothing was built):`);
w();
w("```sh");
for (const b of BENCHMARKS) w(commandLine(b));
w("```");
w();
if (SOAK) {
  w("and once at the end:");
  w();
  w("```sh");
  w(commandLine(SOAK));
  w("```");
  w();
}
w(`Durations: ${timings()}.`);
w();
if (QUICK) w("Settings: QUICK (see the commands), far too short to measure anything.");
else w(`Settings, chosen to keep a 3-round report under ~20 minutes on 2 cores: the proxy and plugin runs use plugboard-bench's defaults (1000 calls per size after 100 warm-up, 3 s of throughput per target and size) at 4 sizes instead of 2 (the plot's); \`Benchmarks/http\` runs wrk for ${settings.httpDuration} instead of 10 s; reload makes ${settings.reloadEdits} edits; curate runs its defaults (200 timed calls per case after 20 warm-up); the soak lasts ${settings.soak} instead of 10 min.`);
w();
for (const s of sections) out.push(...s);

const logged = Object.entries(results).map(([name, outcomes]) => [name, outcomes.flatMap((o) => o.warnings)]).filter(([, l]) => l.length);
if (logged.length) {
  w("## Warnings logged during the runs");
  w();
  w("Lines with WARNING, ERROR or FAILED on the runs' stderr (plugboard logs at warning level), counted over all rounds; numbers in the messages are replaced by N to group them.");
  w();
  w("| benchmark | count | message |");
  w("|---|---:|---|");
  for (const [name, lines] of logged) {
    const groups = new Map();
    for (const l of lines) { const key = l.replace(/\d+/g, "N").trim(); groups.set(key, (groups.get(key) ?? 0) + 1); }
    for (const [message, count] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 5)) w(`| ${name} | ${count} | \`${message.slice(0, 200).replace(/\|/g, "\\|").replace(/`/g, "'")}\` |`);
  }
  w();
}

w("## Reading it");
w();
w("- Benchmarks run one after another, never together; within a round the order is the one above. Rounds interleave with each other's noise rather than running one benchmark three times in a row.");
w("- On a 2-core VM the client, plugboard, the demo server and the plugin workers outnumber the CPUs: trust Δp50 to about ±20 µs (proxy) or ±100 µs (plugins), read p99 and throughput as orders of magnitude, and rerun before believing a single miss. See [noise](../performance.md#noise).");
w(`- Raw output of every run is not kept in the repository; \`results.json\` beside this file holds every parsed number of every round.`);
w();

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "report.md"), out.join("\n").replace(/\n{3,}/g, "\n\n"));
writeFileSync(join(OUT, "latency.svg"), plot(series));
writeFileSync(join(OUT, "results.json"), JSON.stringify({
  machine, rounds: ROUNDS, pin: PIN, quick: QUICK, settings, sizes: SIZES,
  commands: Object.fromEntries([...BENCHMARKS, SOAK].filter(Boolean).map((b) => [b.name, commandLine(b)])),
  results: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(({ log, ...rest }) => rest)])),
  targets: targeted,
}, null, 1) + "\n");
progress(`wrote ${shown(join(OUT, "report.md"))}, latency.svg and results.json (${met}/${targeted.length} targets met)${logs ? `; raw output in ${logs}` : ""}`);
const anyErrors = Object.values(errorTotals).some((n) => n > 0);
process.exitCode = failures.length || anyErrors ? 1 : 0;

// ------------------------------------------------------------------ helpers

function loadRange() {
  const loads = Object.values(results).flat().map((o) => o.load);
  return loads.length ? `${Math.min(...loads).toFixed(2)} – ${Math.max(...loads).toFixed(2)} (mostly the previous benchmark's own load)` : "—";
}
function timings() {
  return Object.entries(results).map(([name, o]) => `${name} ${o.map((x) => Math.round(x.seconds)).join("/")} s`).join(", ") + `; total ${Math.round(machine.totalSeconds / 60)} min`;
}

function describeMachine() {
  // stdout and stderr together, whatever the status (`wrk -v` exits 1); null when missing.
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const models = [...cpuinfo.matchAll(/^model name\s*:\s*(.*)$/gm)].map((m) => m[1]);
  const modelCounts = {};
  for (const m of models) modelCounts[m] = (modelCounts[m] ?? 0) + 1;
  const mhz = /^cpu MHz\s*:\s*(.*)$/m.exec(cpuinfo)?.[1];
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) * 1024;
  const file = (path) => {
    const st = statSync(path);
    const hash = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 12);
    return `\`${shown(path)}\` (built ${st.mtime.toISOString().replace(/\.\d+Z$/, "Z")}, sha256 ${hash}…)`;
  };
  const status = sh("git", ["-C", ROOT, "status", "--porcelain"]) ?? "";
  const dirty = status.split("\n").filter((l) => l.trim()).map((l) => l.slice(3));
  const commit = sh("git", ["-C", ROOT, "log", "-1", "--format=%h %s"]);
  const invocation = [
    ["ROUNDS", String(ROUNDS)], ...(PIN ? [["PIN", "1"]] : []), ...(QUICK ? [["QUICK", "1"]] : []),
    ...["HTTP_DURATION", "SOAK", "ONLY", "OUT"].filter((k) => env[k] !== undefined).map((k) => [k, env[k]]),
    ["PLUGBOARD", shown(PLUGBOARD)], ["PLUGBOARD_BENCH", shown(PLUGBOARD_BENCH)],
  ].map(([k, v]) => `${k}=${v}`).join(" ") + " Benchmarks/run";
  const rows = [
    ["CPU", Object.entries(modelCounts).map(([m, n]) => `${n} × ${m}`).join(", ") + (mhz ? ` (${Number(mhz).toFixed(0)} MHz)` : "") + `; ${os.availableParallelism?.() ?? os.cpus().length} online`],
    ["memory", `${(memTotal / 2 ** 30).toFixed(1)} GiB`],
    ["kernel", `${os.type()} ${os.release()} ${os.machine?.() ?? os.arch()}`],
    ["Swift", sh("swift", ["--version"])?.split("\n")[0] ?? "not found"],
    ["Node", process.version],
    ["Python", sh("python3", ["--version"]) ?? "not found"],
    ...toolRows(),
    ["plugboard", file(PLUGBOARD)],
    ["plugboard-bench", file(PLUGBOARD_BENCH)],
    ["source", `${commit ?? "?"}${dirty.length ? `; uncommitted changes in ${dirty.map((d) => `\`${d}\``).join(", ")}` : ""}`],
  ];
  return { started: new Date().toISOString(), loadStart: os.loadavg(), rows, invocation };
}

/// What a command prints (stdout and stderr), or null when it cannot be run.
function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.error ? null : (r.stdout + r.stderr).replace(/^\n+|\s+$/g, "");
}

/// The HTTP benchmark's tools, which `Benchmarks/http` installs when missing: read again once
/// the runs are over, so a first run on a fresh machine names what it measured with.
function toolRows() {
  const wrk = sh("wrk", ["-v"]) ?? "";
  const haproxy = sh("haproxy", ["-v"]);
  return [
    ["wrk", /wrk (\S+)/.exec(wrk)?.[1] ?? "not found"],
    ["HAProxy", haproxy ? /version (\S+)/.exec(haproxy)?.[1] ?? haproxy.split("\n")[0] : "not found (no wrk ceiling)"],
    ["mcp-proxy", sh(join(ROOT, ".venv-bench/bin/mcp-proxy"), ["--version"]) ?? "not installed"],
  ];
}

/// p50 against size, log-log, drawn by hand: one polyline and marker per series through the
/// medians, error bars from min to max.
function plot(series) {
  const W = 780, H = 500, left = 78, right = 190, top = 52, bottom = 64;
  const pw = W - left - right, ph = H - top - bottom;
  const all = series.flatMap((s) => s.points.filter(([, st]) => st).flatMap(([, st]) => [st.min, st.max]));
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts = [];
  const add = (t) => parts.push(t);
  add(`<?xml version="1.0" encoding="UTF-8"?>`);
  add(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  add(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  add(`<text x="${left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">p50 latency of one tools/call against result size</text>`);
  add(`<text x="${left + pw / 2}" y="40" text-anchor="middle" fill="#555">median of ${ROUNDS} round(s), bars: min – max${QUICK ? " (QUICK settings: not a measurement)" : ""}</text>`);
  if (!all.length) { add(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text></svg>`); return parts.join("\n") + "\n"; }
  // Log axes: sizes span 200×, latencies one to two decades.
  const xMin = Math.log10(SIZES[0] / 1.5), xMax = Math.log10(SIZES[SIZES.length - 1] * 1.5);
  let yLo = Math.min(...all) / 1.25, yHi = Math.max(...all) * 1.25;
  const decadeLo = Math.floor(Math.log10(yLo)), decadeHi = Math.ceil(Math.log10(yHi));
  const yMin = Math.log10(yLo), yMax = Math.log10(yHi);
  const X = (size) => left + ((Math.log10(size) - xMin) / (xMax - xMin)) * pw;
  const Y = (us) => top + ph - ((Math.log10(us) - yMin) / (yMax - yMin)) * ph;
  const f = (n) => n.toFixed(1);
  // grid and y ticks at 1, 2, 5 × 10^n
  const yTicks = [];
  for (let d = decadeLo; d <= decadeHi; d++) for (const m of [1, 2, 5]) { const v = m * 10 ** d; if (v >= yLo && v <= yHi) yTicks.push(v); }
  for (let d = decadeLo; d <= decadeHi; d++) for (let m = 1; m <= 9; m++) {
    const v = m * 10 ** d;
    if (v >= yLo && v <= yHi && !yTicks.includes(v)) add(`<line x1="${left}" x2="${left + pw}" y1="${f(Y(v))}" y2="${f(Y(v))}" stroke="#f0f0f0"/>`);
  }
  for (const v of yTicks) {
    add(`<line x1="${left}" x2="${left + pw}" y1="${f(Y(v))}" y2="${f(Y(v))}" stroke="#d9d9d9"/>`);
    add(`<line x1="${left - 5}" x2="${left}" y1="${f(Y(v))}" y2="${f(Y(v))}" stroke="#000"/>`);
    add(`<text x="${left - 8}" y="${f(Y(v) + 4)}" text-anchor="end">${v >= 1000 ? v.toLocaleString("en-US") : v}</text>`);
  }
  for (const size of SIZES) {
    add(`<line x1="${f(X(size))}" x2="${f(X(size))}" y1="${top}" y2="${top + ph}" stroke="#d9d9d9"/>`);
    add(`<line x1="${f(X(size))}" x2="${f(X(size))}" y1="${top + ph}" y2="${top + ph + 5}" stroke="#000"/>`);
    add(`<text x="${f(X(size))}" y="${top + ph + 19}" text-anchor="middle">${sizeLabel(size)}</text>`);
  }
  add(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`);
  add(`<text x="${left + pw / 2}" y="${H - 18}" text-anchor="middle">result size (text returned by the demo server's payload tool; log scale)</text>`);
  add(`<text transform="translate(20 ${top + ph / 2}) rotate(-90)" text-anchor="middle">p50 latency, µs (log scale)</text>`);
  const marker = (kind, x, y, color) => {
    const r = 4.5;
    if (kind === "circle") return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}"/>`;
    if (kind === "square") return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    if (kind === "triangle") return `<path d="M${f(x)} ${f(y - r - 1)} L${f(x + r + 1)} ${f(y + r)} L${f(x - r - 1)} ${f(y + r)} Z" fill="${color}"/>`;
    return `<path d="M${f(x)} ${f(y - r - 1.5)} L${f(x + r + 1)} ${f(y)} L${f(x)} ${f(y + r + 1.5)} L${f(x - r - 1)} ${f(y)} Z" fill="${color}"/>`;
  };
  series.forEach((s, i) => {
    const dx = (i - (series.length - 1) / 2) * 5; // keeps the error bars of one size apart
    const points = s.points.filter(([, st]) => st);
    add(`<g>`);
    add(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.map(([size, st]) => `${f(X(size) + dx)},${f(Y(st.median))}`).join(" ")}"/>`);
    for (const [size, st] of points) {
      const x = X(size) + dx;
      if (st.max > st.min) {
        add(`<line x1="${f(x)}" x2="${f(x)}" y1="${f(Y(st.min))}" y2="${f(Y(st.max))}" stroke="${s.color}" stroke-width="1.2"/>`);
        for (const v of [st.min, st.max]) add(`<line x1="${f(x - 3)}" x2="${f(x + 3)}" y1="${f(Y(v))}" y2="${f(Y(v))}" stroke="${s.color}" stroke-width="1.2"/>`);
      }
      add(marker(s.marker, x, Y(st.median), s.color));
    }
    add(`</g>`);
  });
  // legend to the right of the plot area
  const lx = left + pw + 18;
  series.forEach((s, i) => {
    const ly = top + 14 + i * 24;
    add(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    add(marker(s.marker, lx + 13, ly, s.color));
    add(`<text x="${lx + 34}" y="${ly + 4}">${esc(s.legend)}</text>`);
  });
  add(`<text x="${lx}" y="${top + 14 + series.length * 24 + 6}" fill="#555" font-size="11">plugins: pass-through</text>`);
  add(`<text x="${lx}" y="${top + 14 + series.length * 24 + 20}" fill="#555" font-size="11">response() returns null</text>`);
  add(`</svg>`);
  return parts.join("\n") + "\n";
}
