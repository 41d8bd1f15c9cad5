// An MCP server over stdio whose one tool answers with a task handle (the tasks extension's
// CreateTaskResult) and serves tasks/get, tasks/cancel and notifications/tasks for it.
import readline from "node:readline";

const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const tasks = new Map();
let next = 1;

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  const answer = (result) => write({ jsonrpc: "2.0", id: message.id, result });
  const fail = (code, text) => write({ jsonrpc: "2.0", id: message.id, error: { code, message: text } });
  const task = (taskId) => ({ taskId, ...tasks.get(taskId), createdAt: "2026-12-02T00:00:00Z", lastUpdatedAt: "2026-12-02T00:00:00Z", ttlMs: 60000 });
  switch (message.method) {
    case "initialize":
      return answer({
        protocolVersion: message.params.protocolVersion,
        capabilities: { tools: {}, extensions: { "io.modelcontextprotocol/tasks": {} } },
        serverInfo: { name: "tasks", version: "1" },
      });
    case "ping":
      return answer({});
    case "tools/list":
      return answer({ tools: [{ name: "build", description: "starts a long build", inputSchema: { type: "object" } }] });
    case "tools/call": {
      const taskId = `t-${next++}`;
      tasks.set(taskId, { status: "working" });
      answer({ resultType: "task", ...task(taskId), pollIntervalMs: 10 });
      setTimeout(() => {
        tasks.set(taskId, { status: "completed", result: { content: [{ type: "text", text: `built ${taskId}` }] } });
        write({ jsonrpc: "2.0", method: "notifications/tasks", params: task(taskId) });
      }, 50);
      return;
    }
    case "tasks/get":
    case "tasks/cancel": {
      const taskId = message.params.taskId;
      if (!tasks.has(taskId)) return fail(-32602, `unknown task ${taskId}`);
      return answer(message.method === "tasks/get" ? { resultType: "complete", ...task(taskId) } : { resultType: "complete" });
    }
    default:
      return fail(-32601, `no method ${message.method}`);
  }
});
