// Minimal MCP server plumbing over stdio (newline-delimited JSON-RPC 2.0).
// Plain Node built-ins only. Shared by contrib/demo-server and contrib/demo-docs.
//
// - reads stdin line by line, writes one JSON message per line to stdout,
//   logs only to stderr;
// - every request is handled concurrently (handlers are async and never block
//   the read loop);
// - supports notifications/cancelled (the handler's AbortSignal fires and no
//   response is sent), progress, server->client requests (own id space),
//   logging/setLevel, pagination helpers, tools/resources/prompts/completion.

import { Buffer } from 'node:buffer';

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

export const ErrorCode = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  RESOURCE_NOT_FOUND: -32002,
});

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** Throw from a handler to answer with a JSON-RPC error. */
export class McpError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** Return from a handler to splice a pre-serialised JSON result into the response verbatim. */
export class RawResult {
  constructor(json) {
    this.json = json;
  }
}

const versionRank = (v) => {
  const i = SUPPORTED_PROTOCOL_VERSIONS.indexOf(v);
  return i < 0 ? -1 : SUPPORTED_PROTOCOL_VERSIONS.length - i; // larger = newer
};
/** True if `version` is at least `minimum` (both must be known versions). */
export const versionAtLeast = (version, minimum) => versionRank(version) >= versionRank(minimum);

const idKey = (id) => (typeof id === 'string' ? 's:' + id : 'n:' + id);
const isValidId = (id) => typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

// ---------------------------------------------------------------- JSON Schema (tiny subset)

/** Validate `value` against a small JSON Schema subset. Returns an error string or null. */
export function validateSchema(schema, value, path = 'arguments') {
  if (!schema) return null;
  const t = schema.type;
  if (t) {
    const ok =
      (t === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) ||
      (t === 'array' && Array.isArray(value)) ||
      (t === 'string' && typeof value === 'string') ||
      (t === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
      (t === 'integer' && Number.isInteger(value)) ||
      (t === 'boolean' && typeof value === 'boolean') ||
      (t === 'null' && value === null);
    if (!ok) return `${path} must be of type ${t}`;
  }
  if (schema.enum && !schema.enum.includes(value)) return `${path} must be one of ${schema.enum.join(', ')}`;
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${path} must be >= ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${path} must be <= ${schema.maximum}`;
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${path} is too short`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${path} is too long`;
  }
  if (t === 'object') {
    for (const req of schema.required || []) {
      if (!(req in value)) return `${path}.${req} is required`;
    }
    const props = schema.properties || {};
    for (const [k, v] of Object.entries(value)) {
      if (props[k]) {
        const err = validateSchema(props[k], v, `${path}.${k}`);
        if (err) return err;
      } else if (schema.additionalProperties === false) {
        return `${path}.${k} is not allowed`;
      }
    }
  }
  if (t === 'array' && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const err = validateSchema(schema.items, value[i], `${path}[${i}]`);
      if (err) return err;
    }
  }
  return null;
}

// ---------------------------------------------------------------- pagination

/**
 * Slice `items` into a page. `cursor` is the opaque string from a previous nextCursor.
 * With pageSize <= 0 everything is returned in one page.
 */
export function paginate(items, cursor, pageSize, kind) {
  let offset = 0;
  if (cursor !== undefined && cursor !== null) {
    if (typeof cursor !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid cursor');
    let decoded;
    try {
      decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid cursor');
    }
    if (!decoded || decoded.k !== kind || !Number.isInteger(decoded.o) || decoded.o < 0 || decoded.o > items.length) {
      throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid cursor');
    }
    offset = decoded.o;
  }
  if (!pageSize || pageSize <= 0) return { page: items.slice(offset), nextCursor: undefined };
  const page = items.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  const nextCursor =
    next < items.length ? Buffer.from(JSON.stringify({ k: kind, o: next, r: 'demo' })).toString('base64url') : undefined;
  return { page, nextCursor };
}

// ---------------------------------------------------------------- URI templates (level 1 only)

function templateToRegExp(template) {
  const names = [];
  const src = template.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : '\\' + c));
  const re = src.replace(/\{([A-Za-z0-9_]+)\}/g, (_, n) => {
    names.push(n);
    return '([^/]+)';
  });
  return { re: new RegExp('^' + re + '$'), names };
}

// ---------------------------------------------------------------- server

export class McpStdioServer {
  /**
   * @param {object} opts
   * @param {string} opts.name            serverInfo.name
   * @param {string} opts.version         serverInfo.version
   * @param {string} [opts.title]
   * @param {string} [opts.instructions]
   * @param {number} [opts.pageSize]      page size for list methods (0 = no pagination)
   * @param {object} [opts.capabilities]  overrides the derived capabilities
   * @param {string} [opts.logPrefix]
   */
  constructor(opts) {
    this.info = { name: opts.name, version: opts.version };
    if (opts.title) this.info.title = opts.title;
    this.instructions = opts.instructions;
    this.pageSize = opts.pageSize || 0;
    this.capabilityOverrides = opts.capabilities;
    this.logPrefix = opts.logPrefix || `[${opts.name}]`;

    this.tools = new Map(); // name -> {def, handler}
    this.resources = new Map(); // uri -> {def, read}
    this.templates = []; // {def, re, names, read, complete}
    this.prompts = new Map(); // name -> {def, get, complete}
    this.methods = new Map(); // extra methods

    this.initialized = false; // initialize answered
    this.clientReady = false; // notifications/initialized received
    this.protocolVersion = null;
    this.clientCapabilities = {};
    this.clientInfo = null;
    this.logLevel = null; // null: everything is sent
    this.subscriptions = new Set();

    this.inFlight = new Map(); // idKey -> {controller, cancelled, outgoing:Set}
    this.outgoing = new Map(); // our request id -> {resolve, reject, timer}
    this.nextOutgoingId = 1;
    this.buffer = '';
  }

  log(...args) {
    process.stderr.write(`${this.logPrefix} ${args.join(' ')}\n`);
  }

  // ------------------------------------------------------------ registration

  /** def: {name, title?, description, inputSchema, outputSchema?, annotations?}; handler(args, ctx) */
  tool(def, handler) {
    this.tools.set(def.name, { def, handler });
    return this;
  }
  /** def: {uri, name, title?, description?, mimeType?, size?}; read(uri, ctx) -> contents[] */
  resource(def, read) {
    this.resources.set(def.uri, { def, read });
    return this;
  }
  /** def: {uriTemplate, name, description?, mimeType?}; read(uri, vars, ctx); complete(argName, value) -> string[] */
  resourceTemplate(def, read, complete) {
    const { re, names } = templateToRegExp(def.uriTemplate);
    this.templates.push({ def, re, names, read, complete });
    return this;
  }
  /** def: {name, title?, description, arguments:[{name, description, required}]}; get(args, ctx) -> {description?, messages} */
  prompt(def, get, complete) {
    this.prompts.set(def.name, { def, get, complete });
    return this;
  }
  /** Register an arbitrary request method: handler(params, ctx) -> result */
  method(name, handler) {
    this.methods.set(name, handler);
    return this;
  }

  capabilities() {
    const caps = {};
    if (this.tools.size) caps.tools = { listChanged: true };
    if (this.resources.size || this.templates.length) caps.resources = { subscribe: true, listChanged: true };
    if (this.prompts.size) caps.prompts = { listChanged: false };
    caps.logging = {};
    if (this.prompts.size || this.templates.length) caps.completions = {};
    return Object.assign(caps, this.capabilityOverrides || {});
  }

  // ------------------------------------------------------------ output

  write(msg) {
    this.writeRaw(JSON.stringify(msg));
  }
  writeRaw(line) {
    // stdout to a pipe is synchronous on Linux, so ordering is preserved and no
    // write is ever lost when we exit right afterwards.
    process.stdout.write(line + '\n');
  }
  respond(id, result) {
    if (result instanceof RawResult) {
      this.writeRaw(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result.json}}`);
    } else {
      this.write({ jsonrpc: '2.0', id, result: result ?? {} });
    }
  }
  respondError(id, code, message, data) {
    const error = { code, message };
    if (data !== undefined) error.data = data;
    this.write({ jsonrpc: '2.0', id, error });
  }
  notify(method, params) {
    const msg = { jsonrpc: '2.0', method };
    if (params !== undefined) msg.params = params;
    this.write(msg);
  }

  /** Send notifications/message if `level` passes the level set by logging/setLevel. */
  sendLog(level, data, logger) {
    if (!LOG_LEVELS.includes(level)) level = 'info';
    if (this.logLevel && LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.logLevel)) return false;
    const params = { level, data };
    if (logger) params.logger = logger;
    this.notify('notifications/message', params);
    return true;
  }

  /** Send a request to the client; resolves with its result, rejects with McpError. */
  request(method, params, { timeoutMs = 60000, signal } = {}) {
    const id = `srv-${this.nextOutgoingId++}`;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null };
      const cleanup = () => {
        clearTimeout(entry.timer);
        this.outgoing.delete(id);
        if (signal) signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        this.notify('notifications/cancelled', { requestId: id, reason: 'originating request cancelled' });
        reject(new McpError(ErrorCode.INTERNAL_ERROR, 'cancelled'));
      };
      entry.resolve = (v) => (cleanup(), resolve(v));
      entry.reject = (e) => (cleanup(), reject(e));
      entry.timer = setTimeout(() => {
        this.notify('notifications/cancelled', { requestId: id, reason: 'timed out' });
        entry.reject(new McpError(-32001, `client did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      entry.timer.unref?.();
      if (signal) {
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.outgoing.set(id, entry);
      const msg = { jsonrpc: '2.0', id, method };
      if (params !== undefined) msg.params = params;
      this.write(msg);
    });
  }

  // ------------------------------------------------------------ input

  start() {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      this.buffer += chunk;
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.handleLine(line);
      }
    });
    process.stdin.on('end', () => {
      if (this.buffer.trim()) this.handleLine(this.buffer);
      this.log('stdin closed, exiting');
      process.exit(0);
    });
    process.stdout.on('error', (e) => {
      this.log('stdout error:', e.code || e.message, '- exiting');
      process.exit(0);
    });
    this.log(`${this.info.name} ${this.info.version} ready (pid ${process.pid})`);
    return this;
  }

  handleLine(line) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.log('parse error:', e.message);
      this.respondError(null, ErrorCode.PARSE_ERROR, 'Parse error', { detail: e.message });
      return;
    }
    if (Array.isArray(msg)) {
      // JSON-RPC batch (2025-03-26 only, tolerated everywhere): handled element by element.
      if (msg.length === 0) this.respondError(null, ErrorCode.INVALID_REQUEST, 'Invalid Request: empty batch');
      for (const m of msg) this.handleMessage(m);
      return;
    }
    this.handleMessage(msg);
  }

  handleMessage(msg) {
    if (msg === null || typeof msg !== 'object' || msg.jsonrpc !== '2.0') {
      const id = msg && typeof msg === 'object' && isValidId(msg.id) ? msg.id : null;
      this.respondError(id, ErrorCode.INVALID_REQUEST, 'Invalid Request');
      return;
    }
    const hasId = 'id' in msg && msg.id !== undefined;
    if (typeof msg.method === 'string') {
      if (!hasId) return this.handleNotification(msg.method, msg.params);
      if (!isValidId(msg.id)) {
        this.respondError(null, ErrorCode.INVALID_REQUEST, 'Invalid Request: id must be a string or number');
        return;
      }
      return this.handleRequest(msg);
    }
    if (hasId && ('result' in msg || 'error' in msg)) return this.handleResponse(msg);
    this.respondError(isValidId(msg.id) ? msg.id : null, ErrorCode.INVALID_REQUEST, 'Invalid Request');
  }

  handleResponse(msg) {
    const entry = this.outgoing.get(msg.id);
    if (!entry) {
      this.log('response for unknown request id', JSON.stringify(msg.id));
      return;
    }
    if (msg.error) entry.reject(new McpError(msg.error.code, msg.error.message, msg.error.data));
    else entry.resolve(msg.result);
  }

  handleNotification(method, params) {
    switch (method) {
      case 'notifications/initialized':
        this.clientReady = true;
        return;
      case 'notifications/cancelled': {
        const rid = params && params.requestId;
        const entry = rid !== undefined ? this.inFlight.get(idKey(rid)) : undefined;
        if (!entry) return; // unknown or already finished: ignore (spec)
        if (entry.method === 'initialize') return; // MUST NOT be cancelled
        entry.cancelled = true;
        this.log(`request ${JSON.stringify(rid)} cancelled: ${params.reason ?? '(no reason)'}`);
        entry.controller.abort(params.reason ?? 'cancelled');
        return;
      }
      case 'notifications/roots/list_changed':
        this.log('client roots changed');
        return;
      case 'notifications/progress':
        return;
      default:
        this.log('ignoring notification', method);
    }
  }

  handleRequest(msg) {
    const { id, method } = msg;
    const params = msg.params;
    if (params !== undefined && (params === null || typeof params !== 'object')) {
      this.respondError(id, ErrorCode.INVALID_PARAMS, 'Invalid params: params must be an object');
      return;
    }
    const key = idKey(id);
    const controller = new AbortController();
    const entry = { controller, cancelled: false, method };
    this.inFlight.set(key, entry);
    const ctx = this.makeContext(id, params, controller.signal);
    let p;
    try {
      p = this.dispatch(method, params || {}, ctx);
    } catch (e) {
      p = Promise.reject(e);
    }
    const finish = (fn) => {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      if (entry.cancelled) return; // spec: no response to a cancelled request
      fn();
    };
    if (p && typeof p.then === 'function') {
      p.then(
        (result) => finish(() => this.respond(id, result)),
        (err) => finish(() => this.sendHandlerError(id, err)),
      );
    } else {
      finish(() => this.respond(id, p));
    }
  }

  sendHandlerError(id, err) {
    if (err instanceof McpError) return this.respondError(id, err.code, err.message, err.data);
    this.log('internal error:', err && err.stack ? err.stack : String(err));
    this.respondError(id, ErrorCode.INTERNAL_ERROR, 'Internal error', { detail: String(err && err.message) });
  }

  makeContext(id, params, signal) {
    const server = this;
    const progressToken = params && params._meta ? params._meta.progressToken : undefined;
    return {
      requestId: id,
      signal,
      progressToken,
      server,
      get protocolVersion() {
        return server.protocolVersion;
      },
      get clientCapabilities() {
        return server.clientCapabilities;
      },
      /** Sends notifications/progress if the request carried a progressToken. */
      progress(progress, total, message) {
        if (progressToken === undefined || signal.aborted) return false;
        const p = { progressToken, progress };
        if (total !== undefined) p.total = total;
        if (message !== undefined && versionAtLeast(server.protocolVersion || LATEST_PROTOCOL_VERSION, '2025-03-26'))
          p.message = message;
        server.notify('notifications/progress', p);
        return true;
      },
      request(method, p, opts = {}) {
        return server.request(method, p, { ...opts, signal });
      },
      notify: (m, p) => server.notify(m, p),
      log: (level, data, logger) => server.sendLog(level, data, logger),
      /** Promise that resolves after ms, or rejects when the request is cancelled. */
      sleep(ms) {
        return new Promise((resolve, reject) => {
          if (signal.aborted) return reject(new McpError(ErrorCode.INTERNAL_ERROR, 'cancelled'));
          const t = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          }, ms);
          const onAbort = () => {
            clearTimeout(t);
            reject(new McpError(ErrorCode.INTERNAL_ERROR, 'cancelled'));
          };
          signal.addEventListener('abort', onAbort, { once: true });
        });
      },
    };
  }

  // ------------------------------------------------------------ dispatch

  dispatch(method, params, ctx) {
    if (method === 'initialize') return this.onInitialize(params);
    if (method === 'ping') return {};
    if (!this.initialized) {
      // Lenient: serve the request anyway but say so on stderr (spec: clients SHOULD NOT do this).
      if (this.methods.has(method) || BUILTIN_METHODS.has(method)) this.log(`warning: ${method} before initialize`);
    }
    switch (method) {
      case 'tools/list':
        return this.onToolsList(params);
      case 'tools/call':
        return this.onToolsCall(params, ctx);
      case 'resources/list':
        return this.onResourcesList(params);
      case 'resources/templates/list':
        return this.onTemplatesList(params);
      case 'resources/read':
        return this.onResourcesRead(params, ctx);
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        if (typeof params.uri !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'uri must be a string');
        if (method === 'resources/subscribe') this.subscriptions.add(params.uri);
        else this.subscriptions.delete(params.uri);
        return {};
      }
      case 'prompts/list':
        return this.onPromptsList(params);
      case 'prompts/get':
        return this.onPromptsGet(params, ctx);
      case 'completion/complete':
        return this.onComplete(params);
      case 'logging/setLevel':
        if (!LOG_LEVELS.includes(params.level)) throw new McpError(ErrorCode.INVALID_PARAMS, `Invalid log level: ${params.level}`);
        this.logLevel = params.level;
        return {};
    }
    const extra = this.methods.get(method);
    if (extra) return extra(params, ctx);
    throw new McpError(ErrorCode.METHOD_NOT_FOUND, `Method not found: ${method}`);
  }

  onInitialize(params) {
    if (this.initialized) throw new McpError(ErrorCode.INVALID_REQUEST, 'Server already initialized');
    if (typeof params.protocolVersion !== 'string')
      throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid params: protocolVersion must be a string');
    const requested = params.protocolVersion;
    this.protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    this.clientCapabilities = (params.capabilities && typeof params.capabilities === 'object' && params.capabilities) || {};
    this.clientInfo = params.clientInfo || null;
    this.initialized = true;
    this.log(
      `initialize from ${this.clientInfo ? `${this.clientInfo.name} ${this.clientInfo.version}` : '(unknown client)'}:` +
        ` requested ${requested}, using ${this.protocolVersion}, client caps ${JSON.stringify(this.clientCapabilities)}`,
    );
    const result = {
      protocolVersion: this.protocolVersion,
      capabilities: this.capabilities(),
      serverInfo: { ...this.info },
    };
    if (!versionAtLeast(this.protocolVersion, '2025-06-18')) delete result.serverInfo.title;
    if (this.instructions) result.instructions = this.instructions;
    return result;
  }

  /** Drop fields a client of an older protocol revision does not know. */
  toolForVersion(def) {
    if (versionAtLeast(this.protocolVersion || LATEST_PROTOCOL_VERSION, '2025-06-18')) return def;
    const { outputSchema, title, ...rest } = def;
    if (!versionAtLeast(this.protocolVersion, '2025-03-26')) delete rest.annotations;
    return rest;
  }

  onToolsList(params) {
    const all = [...this.tools.values()].map((t) => this.toolForVersion(t.def));
    const { page, nextCursor } = paginate(all, params.cursor, this.pageSize, 'tools');
    return nextCursor ? { tools: page, nextCursor } : { tools: page };
  }

  async onToolsCall(params, ctx) {
    if (typeof params.name !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid params: name must be a string');
    const tool = this.tools.get(params.name);
    if (!tool) throw new McpError(ErrorCode.INVALID_PARAMS, `Unknown tool: ${params.name}`);
    const args = params.arguments ?? {};
    const err = validateSchema(tool.def.inputSchema, args);
    if (err) throw new McpError(ErrorCode.INVALID_PARAMS, `Invalid arguments for tool ${params.name}: ${err}`);
    const result = await tool.handler(args, ctx);
    if (result instanceof RawResult) return result;
    if (result && result.structuredContent !== undefined && !versionAtLeast(this.protocolVersion || LATEST_PROTOCOL_VERSION, '2025-06-18')) {
      const { structuredContent, ...rest } = result;
      return rest;
    }
    return result;
  }

  onResourcesList(params) {
    const all = [...this.resources.values()].map((r) => r.def);
    const { page, nextCursor } = paginate(all, params.cursor, this.pageSize, 'resources');
    return nextCursor ? { resources: page, nextCursor } : { resources: page };
  }

  onTemplatesList(params) {
    const all = this.templates.map((t) => t.def);
    const { page, nextCursor } = paginate(all, params.cursor, this.pageSize, 'templates');
    return nextCursor ? { resourceTemplates: page, nextCursor } : { resourceTemplates: page };
  }

  async onResourcesRead(params, ctx) {
    if (typeof params.uri !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid params: uri must be a string');
    const r = this.resources.get(params.uri);
    if (r) return { contents: await r.read(params.uri, ctx) };
    for (const t of this.templates) {
      const m = t.re.exec(params.uri);
      if (m) {
        const vars = {};
        t.names.forEach((n, i) => (vars[n] = decodeURIComponent(m[i + 1])));
        return { contents: await t.read(params.uri, vars, ctx) };
      }
    }
    throw new McpError(ErrorCode.RESOURCE_NOT_FOUND, 'Resource not found', { uri: params.uri });
  }

  onPromptsList(params) {
    const all = [...this.prompts.values()].map((p) => p.def);
    const { page, nextCursor } = paginate(all, params.cursor, this.pageSize, 'prompts');
    return nextCursor ? { prompts: page, nextCursor } : { prompts: page };
  }

  async onPromptsGet(params, ctx) {
    if (typeof params.name !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid params: name must be a string');
    const p = this.prompts.get(params.name);
    if (!p) throw new McpError(ErrorCode.INVALID_PARAMS, `Unknown prompt: ${params.name}`);
    const args = params.arguments || {};
    for (const a of p.def.arguments || []) {
      if (a.required && (args[a.name] === undefined || args[a.name] === ''))
        throw new McpError(ErrorCode.INVALID_PARAMS, `Missing required argument: ${a.name}`);
    }
    return p.get(args, ctx);
  }

  onComplete(params) {
    const ref = params.ref || {};
    const arg = params.argument || {};
    if (typeof arg.name !== 'string') throw new McpError(ErrorCode.INVALID_PARAMS, 'Invalid params: argument.name required');
    const value = typeof arg.value === 'string' ? arg.value : '';
    let values = [];
    if (ref.type === 'ref/prompt') {
      const p = this.prompts.get(ref.name);
      if (!p) throw new McpError(ErrorCode.INVALID_PARAMS, `Unknown prompt: ${ref.name}`);
      if (p.complete) values = p.complete(arg.name, value, params.context) || [];
    } else if (ref.type === 'ref/resource') {
      const t = this.templates.find((x) => x.def.uriTemplate === ref.uri);
      if (!t) throw new McpError(ErrorCode.INVALID_PARAMS, `Unknown resource template: ${ref.uri}`);
      if (t.complete) values = t.complete(arg.name, value, params.context) || [];
    } else {
      throw new McpError(ErrorCode.INVALID_PARAMS, `Invalid ref type: ${ref.type}`);
    }
    const total = values.length;
    values = values.slice(0, 100);
    return { completion: { values, total, hasMore: total > values.length } };
  }
}

const BUILTIN_METHODS = new Set([
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** Convenience: a tool result with a single text content. */
export const textResult = (text, extra = {}) => ({ content: [{ type: 'text', text }], ...extra });
