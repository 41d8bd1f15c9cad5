// Cannot be loaded: a syntax error, as a half-saved edit leaves one.
export default function (input) {
  return { text: input.result.content[0].text +
}
