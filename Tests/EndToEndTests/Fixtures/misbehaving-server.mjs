// An MCP server over stdio that breaks the rules on request, for fault tests.
// Tools: garbage (invalid lines and a stray response before the real answer),
// stall (never answers), huge (a line of `mib` MiB, 3 by default, then nothing),
// deaf (stops reading stdin, then answers nothing more), deep (an answer nested 5000 deep),
// mute (closes its stdout and keeps running).
import { appendFileSync, closeSync } from "node:fs";
import readline from "node:readline";

const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const tools = ["garbage", "stall", "huge", "deaf", "deep", "mute", "echo"].map((name) => ({
  name,
  description: `misbehaves: ${name}`,
  inputSchema: { type: "object" },
}));

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) {
    if (message.method === "notifications/cancelled") {
      process.stderr.write(`cancelled ${message.params.requestId}: ${message.params.reason ?? ""}\n`);
      if (process.env.CANCEL_LOG) appendFileSync(process.env.CANCEL_LOG, `${message.params.requestId}\n`);
    }
    return;
  }
  const answer = (result) => write({ jsonrpc: "2.0", id: message.id, result });
  switch (message.method) {
    case "initialize":
      return answer({
        protocolVersion: message.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "misbehaving", version: "1" },
      });
    case "ping":
      return answer({});
    case "tools/list":
      return answer({ tools });
    case "tools/call": {
      const name = message.params.name;
      if (name === "garbage") {
        process.stdout.write("this is not json\n");
        process.stdout.write(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]));
        write({ jsonrpc: "2.0", id: 987654321, result: {} });
        return answer({ content: [{ type: "text", text: "after garbage" }] });
      }
      if (name === "huge") {
        process.stdout.write('{"jsonrpc":"2.0","id":' + message.id + ',"result":{"content":[{"type":"text","text":"');
        process.stdout.write("x".repeat((message.params.arguments?.mib ?? 3) * 1024 * 1024));
        process.stdout.write('"}]}}\n');
        return;
      }
      if (name === "deaf") {
        lines.close();
        process.stdin.pause();
        return answer({ content: [{ type: "text", text: "not listening any more" }] });
      }
      if (name === "deep") {
        process.stdout.write('{"jsonrpc":"2.0","id":' + message.id + ',"result":{"nested":' + "[".repeat(5000) + "]".repeat(5000) + "}}\n");
        return;
      }
      if (name === "mute") {
        closeSync(1);
        return;
      }
      if (name === "stall") return;
      return answer({ content: [{ type: "text", text: JSON.stringify(message.params.arguments ?? {}) }] });
    }
    default:
      write({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: `no ${message.method}` } });
  }
});
// Keep running after stdin stops being read ("deaf"); exit on SIGTERM as usual.
setInterval(() => {}, 1 << 30);
