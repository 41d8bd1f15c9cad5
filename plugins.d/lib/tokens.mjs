// Token estimate used by curate (documented in docs/curate.md).
//
// No tokenizer ships with Node, and the budget only has to be roughly right, so
// the estimate is a weighted character count:
//   - ASCII outside fenced code: 4 characters per token (English prose in
//     BPE tokenizers averages 4 to 4.5);
//   - ASCII inside fenced code (``` or ~~~): 3 characters per token (code is
//     punctuation- and identifier-heavy, so it splits finer);
//   - every non-ASCII code point: 1 token (accented letters, CJK, arrows and
//     emoji usually cost one to three tokens each; one keeps it simple).
// The sum is rounded up. Fences are tracked line by line, so estimating a
// whole document and summing its blocks agree closely but not exactly.

/**
 * Estimated tokens of `text`.
 * @param {string} text
 * @param {{code?: boolean}} [options] `code: true` weighs all of it as code
 *   (for a block already known to be a fenced code block).
 */
export function estimateTokens(text, options = {}) {
  if (typeof text !== 'string' || text.length === 0) return 0;
  let prose = 0;
  let code = 0;
  let other = 0;
  let inFence = options.code === true;
  const fenceAware = options.code !== true;
  let lineStart = 0;
  let lineAscii = 0;
  let lastWasCode = false;
  const n = text.length;
  // One pass: characters are counted as they come, and each line is weighed at its end.
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 10;
    if (c !== 10) {
      if (c < 128) lineAscii++;
      else if (!(c >= 0xdc00 && c <= 0xdfff)) other++; // a surrogate pair is one code point
      continue;
    }
    if (fenceAware && isFenceLine(text, lineStart, i)) {
      // The fence line itself counts as code either way.
      code += lineAscii + 1;
      inFence = !inFence;
      lastWasCode = true;
    } else if (inFence) {
      code += lineAscii + 1;
      lastWasCode = true;
    } else {
      prose += lineAscii + 1;
      lastWasCode = false;
    }
    lineAscii = 0;
    lineStart = i + 1;
  }
  // The loop counted one newline past the end.
  if (lastWasCode) code -= 1; else prose -= 1;
  return Math.ceil(Math.max(0, prose) / 4 + Math.max(0, code) / 3 + other);
}

function isFenceLine(text, start, end) {
  let i = start;
  while (i < end && i - start < 3 && text.charCodeAt(i) === 32) i++;
  const c = text.charCodeAt(i);
  if (c !== 96 && c !== 126) return false; // ` or ~
  let run = 0;
  while (i < end && text.charCodeAt(i) === c) { i++; run++; }
  return run >= 3;
}
