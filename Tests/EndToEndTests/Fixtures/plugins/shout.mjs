// Response phase: uppercases the text, and logs to stdout to prove it cannot corrupt the protocol.
export default function (input) {
  console.log("shout saw", input.rawContent.length, "characters");
  return { text: input.rawContent.toUpperCase(), metadata: { by: "shout" } };
}
