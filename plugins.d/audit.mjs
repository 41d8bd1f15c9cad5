// audit — one JSON line per call, appended to a file:
//   {ts, server, tool, method, durationMs, requestBytes, responseBytes, outcome}
// Put it in both chains; the response entry writes the line. The request entry hands its start
// to the response entry as `state`, so the two phases need not run in the same worker.
// Reference: docs/guard.md.
//
//   [[servers.NAME.plugins.request]]
//   plugin = "audit"
//   [[servers.NAME.plugins.response]]
//   plugin = "audit"
//   config = { file = "/var/log/plugboard/calls.jsonl" }

import { appendFileSync } from "node:fs";
import { resolve } from "node:path";

const utf8Bytes = (text) => Buffer.byteLength(text, "utf8");

function fileOf(config) {
  const file = config?.file ?? "./plugboard-audit.jsonl";
  if (typeof file !== "string" || file.length === 0) throw new Error("audit config: file must be a non-empty string");
  return resolve(process.cwd(), file);
}

/** What the request phase left: its size, and the milliseconds since it ran; undefined if it did not. */
function elapsed(state, now) {
  if (state === null || typeof state !== "object") return undefined;
  const start = Date.parse(state.startedAt ?? "");
  const end = Date.parse(now ?? "") || Date.now();
  return { requestBytes: state.requestBytes, durationMs: Number.isFinite(start) ? Math.max(0, end - start) : null };
}

export default {
  init(config) {
    fileOf(config);
  },

  request(input) {
    return {
      state: {
        startedAt: input.metadata?.timestamp ?? new Date().toISOString(),
        requestBytes: utf8Bytes(input.rawContent ?? JSON.stringify(input.arguments ?? {})),
      },
    };
  },

  response(input) {
    const seen = elapsed(input.state, input.metadata?.timestamp);
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
