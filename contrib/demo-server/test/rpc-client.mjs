// Tiny raw JSON-lines client used by the node --test suites.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEMO_SERVER = join(HERE, '..', 'server.mjs');
export const DOCS_SERVER = join(HERE, '..', '..', 'demo-docs', 'server.mjs');

const live = new Set();
// Never leave a server behind when a test fails before close().
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class RawClient {
  constructor(script, env = {}) {
    this.proc = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.messages = [];
    this.waiters = [];
    this.stderr = '';
    this.nextId = 1;
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line); // the server must only ever write valid JSON lines
        msg.__raw = line;
        this.messages.push(msg);
        this.checkWaiters();
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (c) => (this.stderr += c));
    live.add(this.proc);
    this.proc.unref(); // a leaked child must not keep the test process alive
    for (const s of [this.proc.stdin, this.proc.stdout, this.proc.stderr]) s.unref?.();
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        live.delete(this.proc);
        resolve({ code, signal });
      }),
    );
  }
  checkWaiters() {
    for (const w of [...this.waiters]) {
      const i = this.messages.findIndex(w.pred);
      if (i >= 0) {
        const [m] = this.messages.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  }
  /** Wait for (and consume) the first message matching pred. */
  waitFor(pred, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, timer: null };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for message; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(w);
      this.checkWaiters();
    });
  }
  sendRaw(line) {
    this.proc.stdin.write(line + '\n');
  }
  send(msg) {
    this.sendRaw(JSON.stringify(msg));
  }
  notify(method, params) {
    this.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }
  /** Send a request; returns {id, response: Promise}. */
  start(method, params, id = this.nextId++, timeoutMs = 5000) {
    const response = this.waitFor((m) => m.id === id && !('method' in m), timeoutMs);
    this.send(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    return { id, response };
  }
  request(method, params, timeoutMs) {
    return this.start(method, params, undefined, timeoutMs).response;
  }
  async initialize(protocolVersion = '2025-11-25', capabilities = {}) {
    const r = await this.request('initialize', {
      protocolVersion,
      capabilities,
      clientInfo: { name: 'node-test', version: '0.0.1' },
    });
    this.notify('notifications/initialized');
    return r;
  }
  async close() {
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}
