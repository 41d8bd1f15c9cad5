// redact-emails — response phase: replaces e-mail addresses in a result's text with "[redacted]".
//
//   [[servers.NAME.plugins.response]]
//   plugin = "redact-emails"
//   config = { replacement = "[redacted]" }   # optional
//
// Works on the text content (tools/call, resources/read). It leaves images and
// `structuredContent` alone: to scrub those too, return `{ result: ... }` instead of `{ text }`.

// Local part, @, dot-separated domain labels, a top-level domain of letters.
const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/g;

export default {
  response(input) {
    const replacement = input.config?.replacement ?? "[redacted]";
    let count = 0;
    const text = input.rawContent.replace(EMAIL, () => {
      count += 1;
      return replacement;
    });
    // Nothing found: return nothing, so the result goes on exactly as it came.
    if (count === 0) return null;
    return { text, metadata: { redacted: count } };
  },
};
