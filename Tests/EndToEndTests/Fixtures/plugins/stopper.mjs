// Marks the text and ends the chain: entries after it do not run.
export default function (input) {
  return { text: `${input.rawContent} (stopped)`, continue: false };
}
