#!/usr/bin/env node
// Does the plugin channel's encoding matter? Times, in the worker's runtime, what one plugin
// call costs to decode and encode as JSON (what the channel speaks) against MessagePack (the
// original design's alternative; a compact codec of our own below, as no package may be used),
// on the messages a response-phase call carries at 1 KB and 50 KB of text.
// A third column sends the text once: the call without `rawContent`, which the worker rebuilds
// from the result. Compare the sums with the whole round trip in Benchmarks/plugins: the
// encoding can save at most its own share.
//   node Benchmarks/encoding.mjs [--json]

const json = process.argv.includes("--json");

// MARK: A MessagePack codec (the subset JSON values need)

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pack(value) {
  const out = { buffer: new Uint8Array(1024), length: 0 };
  write(out, value);
  return out.buffer.subarray(0, out.length);
}

function reserve(out, n) {
  if (out.length + n <= out.buffer.length) return;
  let size = out.buffer.length * 2;
  while (size < out.length + n) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(out.buffer.subarray(0, out.length));
  out.buffer = grown;
}

function byte(out, b) {
  reserve(out, 1);
  out.buffer[out.length++] = b;
}

function uint(out, prefix, value, bytes) {
  reserve(out, 1 + bytes);
  out.buffer[out.length++] = prefix;
  for (let i = bytes - 1; i >= 0; i--) out.buffer[out.length++] = (value / 2 ** (8 * i)) & 0xff;
}

function header(out, value, fix, fixMax, p8, p16, p32) {
  if (value <= fixMax && fix !== null) byte(out, fix | value);
  else if (value < 0x100 && p8 !== null) uint(out, p8, value, 1);
  else if (value < 0x10000) uint(out, p16, value, 2);
  else uint(out, p32, value, 4);
}

function write(out, value) {
  if (value === null || value === undefined) return byte(out, 0xc0);
  if (value === false) return byte(out, 0xc2);
  if (value === true) return byte(out, 0xc3);
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      if (value < 0x80) return byte(out, value);
      return uint(out, 0xce, value, 4);
    }
    reserve(out, 9);
    out.buffer[out.length++] = 0xcb;
    new DataView(out.buffer.buffer, out.buffer.byteOffset).setFloat64(out.length, value);
    out.length += 8;
    return;
  }
  if (typeof value === "string") {
    reserve(out, 5 + value.length * 3);
    const { written } = encoder.encodeInto(value, out.buffer.subarray(out.length + 5));
    uint(out, 0xdb, written, 4);
    out.length += written;
    return;
  }
  if (Array.isArray(value)) {
    header(out, value.length, 0x90, 15, null, 0xdc, 0xdd);
    for (const item of value) write(out, item);
    return;
  }
  const keys = Object.keys(value);
  header(out, keys.length, 0x80, 15, null, 0xde, 0xdf);
  for (const key of keys) {
    write(out, key);
    write(out, value[key]);
  }
}

function unpack(bytes) {
  const state = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), at: 0 };
  return read(state);
}

function read(s) {
  const b = s.bytes[s.at++];
  if (b < 0x80) return b;
  if (b >= 0x80 && b <= 0x8f) return map(s, b & 0x0f);
  if (b >= 0x90 && b <= 0x9f) return array(s, b & 0x0f);
  if (b >= 0xa0 && b <= 0xbf) return string(s, b & 0x1f);
  switch (b) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xcb: { const v = s.view.getFloat64(s.at); s.at += 8; return v; }
    case 0xce: { const v = s.view.getUint32(s.at); s.at += 4; return v; }
    case 0xdb: { const n = s.view.getUint32(s.at); s.at += 4; return string(s, n); }
    case 0xdc: { const n = s.view.getUint16(s.at); s.at += 2; return array(s, n); }
    case 0xdd: { const n = s.view.getUint32(s.at); s.at += 4; return array(s, n); }
    case 0xde: { const n = s.view.getUint16(s.at); s.at += 2; return map(s, n); }
    case 0xdf: { const n = s.view.getUint32(s.at); s.at += 4; return map(s, n); }
    default: throw new Error(`unsupported MessagePack byte 0x${b.toString(16)}`);
  }
}

function string(s, n) {
  const text = decoder.decode(s.bytes.subarray(s.at, s.at + n));
  s.at += n;
  return text;
}

function array(s, n) {
  const list = new Array(n);
  for (let i = 0; i < n; i++) list[i] = read(s);
  return list;
}

function map(s, n) {
  const object = {};
  for (let i = 0; i < n; i++) {
    const key = read(s);
    object[key] = read(s);
  }
  return object;
}

// MARK: The messages

/** A response-phase call as plugboard sends it, and the answer a rewriting plugin gives. */
function messages(textBytes) {
  const line = "The quick brown fox jumps over the lazy dog; \"quoted\" and\ttabbed.\n";
  const text = line.repeat(Math.ceil(textBytes / line.length)).slice(0, textBytes);
  const result = { content: [{ type: "text", text }], isError: false };
  const call = {
    type: "call", id: 7, phase: "response",
    input: {
      toolName: "payload", rawContent: text, maxTokens: null,
      metadata: { requestId: "s1-7", timestamp: "2026-12-03T12:00:00.000Z", serverName: "demo", phase: "response", userQuery: null },
      method: "tools/call", arguments: { bytes: textBytes }, config: {}, result, context: {}, state: null,
    },
  };
  const answer = { type: "result", id: 7, output: { text } };
  return { call, answer };
}

function time(operation, iterations) {
  for (let i = 0; i < Math.min(200, iterations); i++) operation();
  const samples = [];
  for (let round = 0; round < 15; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) operation();
    samples.push(Number(process.hrtime.bigint() - started) / 1000 / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const rows = [];
for (const size of [1024, 51200]) {
  const { call, answer } = messages(size);
  const iterations = size > 10000 ? 200 : 5000;
  const callJSON = Buffer.from(JSON.stringify(call));
  const callPack = pack(call);
  const answerJSON = JSON.stringify(answer);
  const answerPack = pack(answer);
  // What the worker does per call: decode the call, encode the answer (to bytes, as a socket write needs).
  const jsonWork = time(() => {
    JSON.parse(callJSON.toString("utf8"));
    Buffer.from(JSON.stringify(answer));
  }, iterations);
  const packWork = time(() => {
    unpack(callPack);
    pack(answer);
  }, iterations);
  if (JSON.stringify(unpack(callPack)) !== JSON.stringify(call)) throw new Error("the codec does not round-trip");
  // The call without `rawContent`, which the worker rebuilds from the result (the text goes once).
  const { rawContent: _dropped, ...slim } = call.input;
  const onceJSON = Buffer.from(JSON.stringify({ ...call, input: slim }));
  const onceWork = time(() => {
    const message = JSON.parse(onceJSON.toString("utf8"));
    message.input.rawContent = message.input.result.content.filter((b) => b.type === "text").map((b) => b.text).join("\n");
    Buffer.from(JSON.stringify(answer));
  }, iterations);
  rows.push({
    size, json_bytes: callJSON.length + answerJSON.length, msgpack_bytes: callPack.length + answerPack.length,
    once_bytes: onceJSON.length + answerJSON.length, json_us: jsonWork, msgpack_us: packWork, once_us: onceWork,
  });
}

console.log("worker side of one response-phase call: decode the call + encode the answer; µs, median of 15 rounds");
console.log("text         JSON          MessagePack    JSON, text once");
console.log("         bytes     µs      bytes      µs      bytes     µs");
for (const row of rows) {
  const cell = (bytes, us) => `${String(bytes).padStart(7)} ${us.toFixed(1).padStart(6)}`;
  console.log(`${(row.size / 1024 + " KB").padEnd(6)} ${cell(row.json_bytes, row.json_us)}    ${cell(row.msgpack_bytes, row.msgpack_us)}    ${cell(row.once_bytes, row.once_us)}`);
}
if (json) console.log(JSON.stringify({ benchmark: "encoding", rows }));
