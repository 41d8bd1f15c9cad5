// audit — one JSON line per call, appended to a file:
//   {ts, server, tool, method, durationMs, requestBytes, responseBytes, outcome}
// Put it in both chains; the response entry writes the line. Reference: docs/guard.md.
//
//   [[servers.NAME.plugins.request]]
//   plugin = "audit"
//   [[servers.NAME.plugins.response]]
//   plugin = "audit"
//   config = { file = "/var/log/plugboard/calls.jsonl" }

import { appendFileSync } from "node:fs";
import { resolve } from "node:path";
import { CallStarts } from "./lib/guard/call-starts.mjs";

const starts = new CallStarts();

const utf8Bytes = (text) => Buffer.byteLength(text, "utf8");

function fileOf(config) {
  const file = config?.file ?? "./plugboard-audit.jsonl";
  if (typeof file !== "string" || file.length === 0) throw new Error("audit config: file must be a non-empty string");
  return resolve(process.cwd(), file);
}

export default {
  init(config) {
    fileOf(config);
  },

  request(input) {
    const id = input.metadata?.requestId;
    starts.record(id, input.metadata?.timestamp);
    starts.annotate(id, "requestBytes", utf8Bytes(input.rawContent ?? JSON.stringify(input.arguments ?? {})));
    return null;
  },

  response(input) {
    const seen = starts.take(input.metadata?.requestId, input.metadata?.timestamp);
    const result = input.result;
    const line = {
      ts: new Date().toISOString(),
      server: input.metadata?.serverName ?? null,
      tool: input.toolName ?? input.subject ?? null,
      method: input.method ?? null,
      durationMs: seen?.durationMs ?? null,
      requestBytes: seen?.requestBytes ?? utf8Bytes(JSON.stringify(input.arguments ?? {})),
      responseBytes: utf8Bytes(result !== undefined ? JSON.stringify(result) : input.rawContent ?? ""),
      outcome: result?.isError === true ? "error" : "ok",
    };
    try {
      appendFileSync(fileOf(input.config), `${JSON.stringify(line)}\n`);
    } catch (error) {
      return { error: `audit: cannot append to ${fileOf(input.config)}: ${error.code ?? error.message}` };
    }
    return null;
  },
};
