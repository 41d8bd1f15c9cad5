// legacy-wordcount — a script of the original stdin/stdout design, for `mode = "exec"`:
// reads ONE JSON object (the plugin input) from stdin, prints ONE JSON line on stdout.
// It appends a word count to the text.
//
//   [[servers.NAME.plugins.response]]
//   plugin = "legacy-wordcount"
//   mode = "exec"
//
// Each call starts a fresh `node legacy-wordcount.js`; a pool plugin (see uppercase.mjs) is
// much faster. Run it by hand:
//   echo '{"rawContent":"three little words"}' | node plugins.d/legacy-wordcount.js

let data = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (data += chunk));
process.stdin.on("end", () => {
  const input = JSON.parse(data);
  const text = input.rawContent ?? "";
  const words = text.split(/\s+/).filter(Boolean).length;
  // Anything else on stdout after this line is only logged; diagnostics belong on stderr.
  process.stdout.write(JSON.stringify({ text: `${text}\n\n(${words} words)`, continue: true }) + "\n");
});
