// When each call's request phase ran, by requestId, so the response phase can report a duration.
// Workers are separate processes: the two phases of one call meet only when they land in the
// same worker (always with `max_workers = 1`). The map is bounded, since blocked or failed calls
// never reach the response phase.

const MAX_ENTRIES = 10_000;

export class CallStarts {
  #starts = new Map();

  /** Remembers the start of a call: plugboard's timestamp when it parses, and this clock. */
  record(requestId, timestamp) {
    if (typeof requestId !== "string") return;
    if (this.#starts.size >= MAX_ENTRIES) this.#starts.delete(this.#starts.keys().next().value);
    this.#starts.set(requestId, { stamp: Date.parse(timestamp ?? ""), local: performance.now(), requestBytes: undefined });
  }

  /** Attaches a detail to a recorded call (e.g. its request size). */
  annotate(requestId, key, value) {
    const entry = this.#starts.get(requestId);
    if (entry) entry[key] = value;
  }

  /** Forgets a call and returns what was recorded, with `durationMs`; undefined if never seen. */
  take(requestId, timestamp) {
    const entry = this.#starts.get(requestId);
    if (!entry) return undefined;
    this.#starts.delete(requestId);
    const end = Date.parse(timestamp ?? "");
    const durationMs = Number.isFinite(entry.stamp) && Number.isFinite(end)
      ? Math.max(0, end - entry.stamp)
      : Math.round(performance.now() - entry.local);
    return { ...entry, durationMs };
  }

  get size() {
    return this.#starts.size;
  }
}
