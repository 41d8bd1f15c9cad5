// block-tool — request phase: refuses calls to the tools listed in config.deny.
//
//   [[servers.NAME.plugins.request]]
//   plugin = "block-tool"
//   config = { deny = ["delete_file", "drop_table"], reason = "read-only session" }  # reason optional
//
// The client gets an error result naming the reason; the upstream server never sees the call.
// (To hide tools from listings as well, use the server's `[servers.NAME.tools] deny` setting.)

export default {
  request(input) {
    const deny = input.config?.deny ?? [];
    if (!deny.includes(input.toolName)) return null;
    const why = input.config.reason ? `: ${input.config.reason}` : "";
    return { block: { reason: `the tool "${input.toolName}" is blocked${why}` } };
  },
};
