// One JSON line per decision, to a file (appended) or to stderr, which plugboard logs tagged
// with the plugin and worker pid. Callers pass reasons that never contain secret values.
import { appendFileSync } from "node:fs";
import { resolve } from "node:path";

/** Writes `record` as one line; a file that cannot be written falls back to stderr, saying why. */
export function writeAuditLine(record, file) {
  const line = `${JSON.stringify(record)}\n`;
  if (file) {
    try {
      appendFileSync(resolve(process.cwd(), file), line);
      return;
    } catch (error) {
      process.stderr.write(`${JSON.stringify({ ...record, auditFileError: `${error.code ?? error.message}` })}\n`);
      return;
    }
  }
  process.stderr.write(line);
}
