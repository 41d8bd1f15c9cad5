// enrich — response phase: sizes, an estimated token count and block counts, under
// result._meta["dev.plugboard/plugins"].enrich. Also in the request chain to get durationMs
// (its start reaches the response phase as `state`).
// Reference: docs/guard.md.
//
//   [[servers.NAME.plugins.response]]
//   plugin = "enrich"

/** Counts content blocks by type: tool content, resource contents (text/blob), prompt messages. */
function blockCounts(result, method) {
  const counts = {};
  const add = (type) => {
    counts[type] = (counts[type] ?? 0) + 1;
  };
  if (Array.isArray(result?.content)) for (const block of result.content) add(String(block?.type ?? "unknown"));
  if (Array.isArray(result?.contents)) {
    for (const item of result.contents) add(typeof item?.text === "string" ? "text" : item?.blob !== undefined ? "blob" : "unknown");
  }
  if (Array.isArray(result?.messages)) for (const message of result.messages) add(String(message?.content?.type ?? "unknown"));
  if (method === "tools/list" && Array.isArray(result?.tools)) counts.tools = result.tools.length;
  return counts;
}

export default {
  request(input) {
    return { state: { startedAt: input.metadata?.timestamp ?? new Date().toISOString() } };
  },

  response(input) {
    const text = input.rawContent ?? "";
    const result = input.result;
    const metadata = {
      bytes: Buffer.byteLength(result !== undefined ? JSON.stringify(result) : text, "utf8"),
      textBytes: Buffer.byteLength(text, "utf8"),
      estimatedTokens: Math.ceil(text.length / 4),
      blocks: blockCounts(result, input.method),
    };
    const start = Date.parse(input.state?.startedAt ?? "");
    if (Number.isFinite(start)) metadata.durationMs = Math.max(0, (Date.parse(input.metadata?.timestamp ?? "") || Date.now()) - start);
    return { metadata };
  },
};
