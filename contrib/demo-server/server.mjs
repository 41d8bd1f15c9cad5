#!/usr/bin/env node
// plugboard demo MCP server (stdio). Plain Node built-ins, no npm.
// See contrib/demo-server/README.md.
//
// Env:
//   DEMO_SERVER_NAME  serverInfo.name (default "plugboard-demo")
//   DEMO_PAGE_SIZE    page size for tools/resources/prompts lists (default: no pagination)

import {
  McpStdioServer,
  McpError,
  RawResult,
  textResult,
  versionAtLeast,
  LOG_LEVELS,
} from '../lib/mcp-stdio-server.mjs';

const NAME = process.env.DEMO_SERVER_NAME || 'plugboard-demo';
const PAGE_SIZE = Number.parseInt(process.env.DEMO_PAGE_SIZE || '0', 10) || 0;

const server = new McpStdioServer({
  name: NAME,
  version: '1.0.0',
  title: 'plugboard demo server',
  instructions: 'Demo server for plugboard tests: echo, add, payload, slow, progress, sample, elicit, roots, log, crash, fail.',
  pageSize: PAGE_SIZE,
  logPrefix: `[demo:${NAME}]`,
});

// ------------------------------------------------------------------ payload cache

const PATTERN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const MAX_PAYLOAD = 64 * 1024 * 1024;
const payloadCache = new Map(); // bytes -> RawResult (pre-serialised result JSON)
function payloadResult(bytes) {
  let r = payloadCache.get(bytes);
  if (r) return r;
  let text = PATTERN.repeat(Math.ceil(bytes / PATTERN.length)).slice(0, bytes);
  // Only JSON-safe ASCII characters, so the serialised form is predictable.
  r = new RawResult(JSON.stringify({ content: [{ type: 'text', text }] }));
  if (payloadCache.size >= 32) payloadCache.delete(payloadCache.keys().next().value);
  payloadCache.set(bytes, r);
  return r;
}
for (const n of [0, 1, 10, 100, 1000, 1024, 10000, 65536, 100000]) payloadResult(n);

// ------------------------------------------------------------------ tools

server.tool(
  {
    name: 'echo',
    title: 'Echo',
    description: 'Returns the given text unchanged as a text content block.',
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string', description: 'Text to echo back' } },
      required: ['text'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  (args) => textResult(args.text),
);

server.tool(
  {
    name: 'add',
    title: 'Add two numbers',
    description: 'Adds two numbers. Returns the sum as text and as structured content {sum}.',
    inputSchema: {
      type: 'object',
      properties: {
        a: { type: 'number', description: 'First addend' },
        b: { type: 'number', description: 'Second addend' },
      },
      required: ['a', 'b'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { sum: { type: 'number', description: 'a + b' } },
      required: ['sum'],
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  (args) => {
    const sum = args.a + args.b;
    return textResult(String(sum), { structuredContent: { sum } });
  },
);

server.tool(
  {
    name: 'payload',
    title: 'Deterministic payload',
    description:
      'Returns one text content block of exactly `bytes` bytes of ASCII (deterministic pattern). ' +
      'Results are pre-serialised and cached per size; used by latency/throughput benchmarks.',
    inputSchema: {
      type: 'object',
      properties: {
        bytes: { type: 'integer', minimum: 0, maximum: MAX_PAYLOAD, description: 'Exact size of the text in bytes' },
      },
      required: ['bytes'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  (args) => payloadResult(args.bytes),
);

server.tool(
  {
    name: 'slow',
    title: 'Slow operation',
    description:
      'Waits `ms` milliseconds, then answers. If notifications/cancelled arrives for this request it stops and sends no response.',
    inputSchema: {
      type: 'object',
      properties: { ms: { type: 'integer', minimum: 0, maximum: 600000, description: 'Delay in milliseconds' } },
      required: ['ms'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  async (args, ctx) => {
    await ctx.sleep(args.ms);
    return textResult(`slept ${args.ms} ms`);
  },
);

server.tool(
  {
    name: 'progress',
    title: 'Progress reporter',
    description:
      'Runs `steps` steps of `delay_ms` each. If the request has _meta.progressToken, sends notifications/progress after each step.',
    inputSchema: {
      type: 'object',
      properties: {
        steps: { type: 'integer', minimum: 0, maximum: 10000, description: 'Number of steps' },
        delay_ms: { type: 'integer', minimum: 0, maximum: 60000, description: 'Delay per step in milliseconds' },
      },
      required: ['steps'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  async (args, ctx) => {
    const steps = args.steps;
    const delay = args.delay_ms ?? 10;
    let sent = 0;
    for (let i = 1; i <= steps; i++) {
      await ctx.sleep(delay);
      if (ctx.progress(i, steps, `step ${i}/${steps}`)) sent++;
    }
    return textResult(`completed ${steps} steps (${sent} progress notifications)`);
  },
);

server.tool(
  {
    name: 'sample',
    title: 'Sample via client LLM',
    description: 'Asks the client to sample an LLM completion (sampling/createMessage) for the prompt and returns the text.',
    inputSchema: {
      type: 'object',
      properties: {
        prompt: { type: 'string', description: 'User prompt to send to the client LLM' },
        max_tokens: { type: 'integer', minimum: 1, description: 'maxTokens for the sampling request (default 100)' },
      },
      required: ['prompt'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  async (args, ctx) => {
    if (!ctx.clientCapabilities.sampling) return textResult('client does not support sampling', { isError: true });
    let res;
    try {
      res = await ctx.request('sampling/createMessage', {
        messages: [{ role: 'user', content: { type: 'text', text: args.prompt } }],
        systemPrompt: 'You are a helpful assistant.',
        maxTokens: args.max_tokens ?? 100,
      });
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      return textResult(`sampling failed: ${e.message} (code ${e.code})`, { isError: true });
    }
    const blocks = Array.isArray(res && res.content) ? res.content : [res && res.content];
    const text = blocks
      .filter((b) => b && b.type === 'text')
      .map((b) => b.text)
      .join('');
    return textResult(text, { _meta: { model: res && res.model, stopReason: res && res.stopReason } });
  },
);

server.tool(
  {
    name: 'elicit',
    title: 'Elicit user input',
    description: 'Asks the client for user input (elicitation/create, form mode) and returns the action and content as JSON text.',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string', description: 'Message shown to the user' } },
      required: ['message'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  async (args, ctx) => {
    if (!ctx.clientCapabilities.elicitation) return textResult('client does not support elicitation', { isError: true });
    const params = {
      message: args.message,
      requestedSchema: {
        type: 'object',
        properties: {
          answer: { type: 'string', title: 'Answer', description: 'Your answer' },
          confirm: { type: 'boolean', title: 'Confirm', description: 'Confirm the answer' },
        },
        required: ['answer'],
      },
    };
    if (versionAtLeast(ctx.protocolVersion, '2025-11-25')) params.mode = 'form';
    let res;
    try {
      res = await ctx.request('elicitation/create', params);
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      return textResult(`elicitation failed: ${e.message} (code ${e.code})`, { isError: true });
    }
    const out = { action: res.action };
    if (res.content !== undefined) out.content = res.content;
    return textResult(JSON.stringify(out));
  },
);

server.tool(
  {
    name: 'roots',
    title: 'List client roots',
    description: 'Asks the client for its roots (roots/list) and returns them as text, one "uri name" per line.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  async (_args, ctx) => {
    if (!ctx.clientCapabilities.roots) return textResult('client does not support roots', { isError: true });
    let res;
    try {
      res = await ctx.request('roots/list', {});
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      return textResult(`roots/list failed: ${e.message} (code ${e.code})`, { isError: true });
    }
    const roots = (res && res.roots) || [];
    const text = roots.length ? roots.map((r) => (r.name ? `${r.uri} ${r.name}` : r.uri)).join('\n') : '(no roots)';
    return textResult(text);
  },
);

server.tool(
  {
    name: 'log',
    title: 'Emit a log message',
    description: 'Sends notifications/message with the given level and message (respecting logging/setLevel), answers "logged".',
    inputSchema: {
      type: 'object',
      properties: {
        level: { type: 'string', enum: LOG_LEVELS, description: 'Log level' },
        message: { type: 'string', description: 'Log message' },
      },
      required: ['level', 'message'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  (args, ctx) => {
    ctx.log(args.level, args.message, NAME);
    return textResult('logged');
  },
);

server.tool(
  {
    name: 'crash',
    title: 'Crash the server',
    description: 'Writes a line to stderr and exits immediately with status 3 without answering (crash tests).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { destructiveHint: true, openWorldHint: false },
  },
  () => {
    process.stderr.write(`[demo:${NAME}] crash tool called, exiting with status 3\n`);
    process.exit(3);
  },
);

server.tool(
  {
    name: 'fail',
    title: 'Fail with a JSON-RPC error',
    description: 'Answers with JSON-RPC error {code: -32050, message: "demo failure"} (error pass-through tests).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  () => {
    throw new McpError(-32050, 'demo failure', { hint: 'the fail tool always fails; this error must pass through unchanged' });
  },
);

server.tool(
  {
    name: 'notify_changed',
    title: 'Send list_changed',
    description: 'Sends notifications/tools/list_changed (and resources/updated for any subscribed URI).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  (_args, ctx) => {
    ctx.notify('notifications/tools/list_changed');
    for (const uri of server.subscriptions) ctx.notify('notifications/resources/updated', { uri });
    return textResult('notified');
  },
);

// ------------------------------------------------------------------ resources

const README = `# plugboard demo server

This is the demo MCP server used by plugboard's tests and demos.
Server name: ${NAME}

Tools: echo, add, payload, slow, progress, sample, elicit, roots, log, crash, fail, notify_changed.
`;
// 1x1 transparent PNG
const LOGO_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

server.resource(
  { uri: 'demo://readme', name: 'readme', title: 'Demo README', description: 'About this demo server', mimeType: 'text/markdown', size: Buffer.byteLength(README) },
  (uri) => [{ uri, mimeType: 'text/markdown', text: README }],
);
server.resource(
  { uri: 'demo://logo', name: 'logo', title: 'Demo logo', description: 'A 1x1 PNG', mimeType: 'image/png', size: Buffer.from(LOGO_B64, 'base64').length },
  (uri) => [{ uri, mimeType: 'image/png', blob: LOGO_B64 }],
);
const NOTE_IDS = ['1', '2', '3', '42', '100'];
server.resourceTemplate(
  { uriTemplate: 'demo://notes/{id}', name: 'note', title: 'Note by id', description: 'A generated note', mimeType: 'text/plain' },
  (uri, vars) => [{ uri, mimeType: 'text/plain', text: `Note ${vars.id}: this note was generated by ${NAME}.` }],
  (arg, value) => (arg === 'id' ? NOTE_IDS.filter((id) => id.startsWith(value)) : []),
);

// ------------------------------------------------------------------ prompts

const NAMES = ['Ada', 'Alan', 'Alice', 'Bob', 'Barbara', 'Charlie', 'Grace', 'Linus', 'Margaret'];
server.prompt(
  {
    name: 'greet',
    title: 'Greeting',
    description: 'Produces a user message asking the model to greet someone.',
    arguments: [
      { name: 'name', description: 'Who to greet', required: true },
      { name: 'style', description: 'Greeting style (formal, casual, pirate)', required: false },
    ],
  },
  (args) => ({
    description: `Greeting for ${args.name}`,
    messages: [
      {
        role: 'user',
        content: { type: 'text', text: `Please greet ${args.name}${args.style ? ` in a ${args.style} style` : ''}.` },
      },
    ],
  }),
  (arg, value) => {
    const v = value.toLowerCase();
    if (arg === 'name') return NAMES.filter((n) => n.toLowerCase().startsWith(v));
    if (arg === 'style') return ['formal', 'casual', 'pirate'].filter((s) => s.startsWith(v));
    return [];
  },
);

server.start();
