// A script of the original design: one JSON object on stdin, one JSON line on stdout.
let data = "";
process.stdin.on("data", (chunk) => (data += chunk));
process.stdin.on("end", () => {
  const input = JSON.parse(data);
  process.stdout.write(JSON.stringify({ text: `${input.rawContent} (${input.metadata.phase} via exec)`, continue: true }) + "\n");
});
