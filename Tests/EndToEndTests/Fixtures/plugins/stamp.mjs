// Appends config.suffix to echo's text argument (request phase) or to the text (response phase).
export function request(input) {
  return { arguments: { ...input.arguments, text: `${input.arguments.text}${input.config.suffix}` } };
}

export function response(input) {
  return { text: input.rawContent + input.config.suffix, metadata: { suffix: input.config.suffix } };
}
