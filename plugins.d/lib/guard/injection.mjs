// Prompt-injection heuristics for text coming back from a server. They flag, never rewrite:
// guard annotates or blocks on what they find. Each check is linear in the text's length
// (quantifiers are bounded). The reason labels are worded so that guard's own notice, which
// quotes them, does not trip the checks again.

const CHECKS = [
  {
    reason: "instruction-override phrasing",
    pattern: /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|foregoing|original|system)\s+(?:instructions?|prompts?|directions?|messages?|context|rules|guidelines)\b/i,
  },
  {
    reason: "role-reassignment phrasing",
    pattern: /\byou\s+are\s+now\s+(?:a|an|the|my|in|acting|going|free|no\s+longer|DAN|unrestricted|jailbroken)\b/i,
  },
  { reason: "system-prompt reference", pattern: /\bsystem\s+prompt\b|\bnew\s+(?:system\s+)?instructions\s*:/i },
  {
    reason: "asks to keep something from the user",
    pattern: /\b(?:do\s+not|don't|dont|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to|show|alert|notify)\s+(?:this\s+to\s+)?the\s+user\b|\bwithout\s+(?:telling|informing|notifying)\s+the\s+user\b/i,
  },
  {
    reason: "chat-template control tokens",
    pattern: /<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|begin_of_text|start_header_id|end_header_id|eot_id)\|>|\[\/?INST\]|<<\/?SYS>>|(?:^|\n)[ \t]{0,20}(?:Human|Assistant)[ \t]{0,4}:/,
  },
  {
    reason: "tool-call imitation",
    pattern: /<\/?(?:antml:)?(?:function_calls|invoke|tool_call|tool_use|tool_result|function_results|parameter)\b|"(?:tool_calls|function_call|tool_use)"\s*:/i,
  },
  {
    reason: "hidden text (zero-width characters)",
    // ZWJ/ZWNJ alone are legitimate (emoji sequences, Persian, Indic scripts): only runs of them,
    // or one inside a Latin word, count. A byte-order mark counts except at the very start.
    pattern: /[\u200B\u2060-\u2064\u180E]|(?!^)\uFEFF|[\u200C\u200D]{2,}|[A-Za-z][\u200C\u200D][A-Za-z]/,
  },
  { reason: "hidden text (Unicode tag characters)", pattern: /[\u{E0000}-\u{E007F}]/u },
  { reason: "hidden text (bidirectional overrides)", pattern: /[\u202A-\u202E\u2066-\u2069]/ },
  {
    reason: "hidden text (CSS hiding)",
    pattern: /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])/i,
  },
  {
    reason: "markdown image to a URL with a query string (possible data exfiltration)",
    pattern: /!\[[^[\]\n]{0,500}\]\(\s{0,20}<?https?:\/\/[^\s()<>?[\]]{1,2048}\?[^\s()<>[\]]{0,4096}=/i,
  },
  {
    reason: "HTML image to a URL with a query string (possible data exfiltration)",
    pattern: /<img\b[^>]{0,500}\bsrc\s*=\s*["']?https?:\/\/[^\s"'<>?]{1,2048}\?[^\s"'<>]{0,4096}=/i,
  },
  {
    reason: "link carrying data in its query string (possible exfiltration)",
    // A link whose query holds a template placeholder or a long base64-like value. URL classes
    // stop at brackets so that a run of unclosed links is scanned once, not once per link.
    pattern: /\[[^[\]\n]{0,500}\]\(\s{0,20}<?https?:\/\/[^\s()<>?[\]]{1,2048}\?[^\s()<>[\]]{0,4096}?(?:[{}$<>]|%7[BbDd]|%24|%3[CcEe]|=[A-Za-z0-9+/_%-]{64})/,
  },
];

/** The reasons `text` looks like it carries instructions or hidden content (empty when clean). */
export function injectionReasons(text) {
  const reasons = [];
  for (const { reason, pattern } of CHECKS) if (pattern.test(text)) reasons.push(reason);
  // HTML comments: found with indexOf, as a lazy regex goes quadratic on many unclosed `<!--`.
  const open = text.indexOf("<!--");
  if (open >= 0 && text.indexOf("-->", open + 4) >= 0) reasons.push("hidden text (HTML comment)");
  return reasons;
}
