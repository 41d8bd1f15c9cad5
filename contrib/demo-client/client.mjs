#!/usr/bin/env node
// A tiny MCP stdio client for trying plugboard by hand: node client.mjs -- COMMAND ARGS...
// It initializes, lists tools, calls a few, then (on a terminal) reads commands:
//   tools | call NAME {json arguments} | raw {json-rpc message} | quit
import { spawn } from "node:child_process";
import readline from "node:readline";

const separator = process.argv.indexOf("--");
const [command, ...args] = separator >= 0 ? process.argv.slice(separator + 1) : [];
if (!command) {
  console.error("usage: client.mjs -- COMMAND [ARGS...]");
  process.exit(2);
}

const server = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
const pending = new Map();
let nextId = 1;

readline.createInterface({ input: server.stdout }).on("line", (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    console.log(`!! not JSON on stdout: ${line}`);
    return;
  }
  if (message.id !== undefined && pending.has(message.id) && !message.method) {
    pending.get(message.id)(message);
    pending.delete(message.id);
  } else if (message.method && message.id !== undefined) {
    console.log(`<- server request ${message.method}; answering with an error (this client has no model)`);
    send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "not supported by demo client" } });
  } else {
    console.log(`<- ${message.method} ${JSON.stringify(message.params ?? {})}`);
  }
});

function send(message) {
  server.stdin.write(JSON.stringify(message) + "\n");
}

function request(method, params = {}) {
  const id = nextId++;
  send({ jsonrpc: "2.0", id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}

function show(title, value) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const lines = text.split("\n");
  const shown = lines.length > 30 ? [...lines.slice(0, 30), `… (${lines.length - 30} more lines)`] : lines;
  console.log(`\n== ${title}\n${shown.join("\n")}`);
}

const init = await request("initialize", {
  protocolVersion: "2025-11-25",
  capabilities: { roots: { listChanged: true } },
  clientInfo: { name: "plugboard-demo-client", version: "1.0" },
});
if (init.error) {
  show("initialize failed", init.error);
  process.exit(1);
}
send({ jsonrpc: "2.0", method: "notifications/initialized" });
show("connected to", `${init.result.serverInfo.name} ${init.result.serverInfo.version ?? ""} (protocol ${init.result.protocolVersion})`);

const tools = (await request("tools/list")).result?.tools ?? [];
show("tools", tools.map((t) => `${t.name} — ${(t.description ?? "").split("\n")[0]}`).join("\n"));

async function call(name, args) {
  const started = process.hrtime.bigint();
  const reply = await request("tools/call", { name, arguments: args });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const body = reply.error ?? (reply.result.content ?? []).map((c) => c.text ?? `[${c.type}]`).join("\n");
  show(`call ${name} ${JSON.stringify(args)} (${ms.toFixed(1)} ms)`, body);
  for (const line of savings(reply.result)) console.log(line);
}

/** "curate: 10,240 → 1,930 tokens (−81%)" for each plugin that reports what it cut. */
function savings(result) {
  const plugins = result?._meta?.["dev.plugboard/plugins"] ?? {};
  return Object.entries(plugins)
    .filter(([, m]) => Number.isFinite(m?.originalTokens) && Number.isFinite(m?.keptTokens) && m.originalTokens > 0)
    .map(([name, m]) => {
      const percent = Math.round((1 - m.keptTokens / m.originalTokens) * 100);
      const sections = Number.isFinite(m.sectionsKept) ? `, ${m.sectionsKept} of ${m.sectionsTotal} sections kept` : "";
      return `   ${name}: ${m.originalTokens.toLocaleString("en-US")} → ${m.keptTokens.toLocaleString("en-US")} tokens (−${percent}%)${sections}`;
    });
}

const echo = tools.find((t) => t.name.endsWith("echo"));
if (echo) await call(echo.name, { text: "hello through plugboard" });
const add = tools.find((t) => t.name.endsWith("add"));
if (add) await call(add.name, { a: 2, b: 40 });
const docs = tools.find((t) => t.name.endsWith("get-library-docs"));
if (docs) await call(docs.name, { context7CompatibleLibraryID: "/fetchwave/fetchwave", topic: "retry with backoff" });
const crash = tools.find((t) => t.name.endsWith("crash"));
if (crash) await call(crash.name, {});
await call("no_such_tool", {});

if (!process.stdin.isTTY) {
  server.stdin.end();
  server.on("exit", (code) => process.exit(code ?? 0));
} else {
  console.log("\ncommands: tools | call NAME {json} | raw {json-rpc} | quit");
  const input = readline.createInterface({ input: process.stdin, prompt: "plugboard> " });
  input.prompt();
  for await (const line of input) {
    const [verb, name, ...rest] = line.trim().split(/\s+/);
    try {
      if (verb === "quit" || verb === "exit") break;
      if (verb === "tools") show("tools", (await request("tools/list")).result?.tools.map((t) => t.name).join("\n"));
      else if (verb === "call") await call(name, rest.length ? JSON.parse(rest.join(" ")) : {});
      else if (verb === "raw") send(JSON.parse([name, ...rest].join(" ")));
      else if (verb) console.log("commands: tools | call NAME {json} | raw {json-rpc} | quit");
    } catch (error) {
      console.log(`!! ${error.message}`);
    }
    input.prompt();
  }
  server.stdin.end();
  server.on("exit", (code) => process.exit(code ?? 0));
}
