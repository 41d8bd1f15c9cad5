// Request phase: blocks tools named in config.deny, rewrites the text argument of echo.
export function request(input) {
  if ((input.config.deny ?? []).includes(input.toolName)) {
    return { block: { reason: `${input.toolName} is not allowed here` } };
  }
  if (input.toolName === "echo") {
    return { arguments: { ...input.arguments, text: `[checked] ${input.arguments.text}` } };
  }
  return null;
}
