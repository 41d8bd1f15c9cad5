// tools/list response: hides the tools named in config.hide and marks the rest.
export default {
  response(input) {
    const tools = input.result.tools
      .filter((tool) => !input.config.hide.includes(tool.name))
      .map((tool) => ({ ...tool, description: `[curated] ${tool.description ?? ""}` }));
    return { result: { ...input.result, tools } };
  },
};
