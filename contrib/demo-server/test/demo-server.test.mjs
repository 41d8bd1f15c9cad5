import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, DEMO_SERVER } from './rpc-client.mjs';

const call = (c, name, args, timeoutMs) => c.request('tools/call', { name, arguments: args }, timeoutMs);

describe('demo server', () => {
  test('initialize negotiates each supported protocol version', async () => {
    for (const v of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
      const c = new RawClient(DEMO_SERVER);
      const r = await c.initialize(v);
      assert.equal(r.result.protocolVersion, v);
      assert.equal(r.result.serverInfo.name, 'plugboard-demo');
      assert.deepEqual(r.result.capabilities.tools, { listChanged: true });
      assert.deepEqual(r.result.capabilities.resources, { subscribe: true, listChanged: true });
      assert.ok(r.result.capabilities.prompts && r.result.capabilities.logging && r.result.capabilities.completions);
      assert.equal((await c.close()).code, 0);
    }
  });

  test('unknown protocol version falls back to latest; DEMO_SERVER_NAME is used', async () => {
    const c = new RawClient(DEMO_SERVER, { DEMO_SERVER_NAME: 'alpha' });
    const r = await c.initialize('1999-01-01');
    assert.equal(r.result.protocolVersion, '2025-11-25');
    assert.equal(r.result.serverInfo.name, 'alpha');
    await c.close();
  });

  test('tools/list, echo, add, fail, unknown method, bad params, ping', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    const list = await c.request('tools/list', {});
    const names = list.result.tools.map((t) => t.name);
    for (const n of ['echo', 'add', 'payload', 'slow', 'progress', 'sample', 'elicit', 'roots', 'log', 'crash', 'fail', 'notify_changed'])
      assert.ok(names.includes(n), n);
    assert.equal(list.result.nextCursor, undefined);
    for (const t of list.result.tools) {
      assert.equal(t.inputSchema.type, 'object');
      assert.ok(t.description.length > 10);
    }
    assert.ok(list.result.tools.find((t) => t.name === 'add').outputSchema);

    assert.deepEqual((await call(c, 'echo', { text: 'hi' })).result, { content: [{ type: 'text', text: 'hi' }] });
    const add = await call(c, 'add', { a: 2, b: 3.5 });
    assert.equal(add.result.content[0].text, '5.5');
    assert.deepEqual(add.result.structuredContent, { sum: 5.5 });

    const fail = await call(c, 'fail', {});
    assert.equal(fail.error.code, -32050);
    assert.equal(fail.error.message, 'demo failure');
    assert.ok(fail.error.data.hint);

    assert.equal((await c.request('no/such/method', {})).error.code, -32601);
    assert.equal((await call(c, 'add', { a: 'x', b: 1 })).error.code, -32602);
    assert.equal((await call(c, 'nope', {})).error.code, -32602);
    assert.deepEqual((await c.request('ping')).result, {});
    await c.close();
  });

  test('payload returns exactly N bytes, quickly', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    for (const n of [0, 1, 1000, 65536, 1048576]) {
      const r = await call(c, 'payload', { bytes: n });
      const text = r.result.content[0].text;
      assert.equal(Buffer.byteLength(text), n);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
    }
    // 200 sequential round trips of a cached size: generous bound, just catches pathologies.
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) await call(c, 'payload', { bytes: 1024 });
    const perCallUs = Number(process.hrtime.bigint() - t0) / 200 / 1000;
    assert.ok(perCallUs < 5000, `payload round trip ${perCallUs.toFixed(0)} µs`);
    await c.close();
  });

  test('pagination with DEMO_PAGE_SIZE=2 yields every tool exactly once', async () => {
    const c = new RawClient(DEMO_SERVER, { DEMO_PAGE_SIZE: '2' });
    await c.initialize();
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      const r = await c.request('tools/list', cursor ? { cursor } : {});
      assert.ok(r.result.tools.length <= 2);
      seen.push(...r.result.tools.map((t) => t.name));
      cursor = r.result.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12);
    assert.equal(pages, 6);
    assert.equal((await c.request('tools/list', { cursor: 'garbage' })).error.code, -32602);
    const res = await c.request('resources/list', {});
    assert.equal(res.result.resources.length, 2);
    await c.close();
  });

  test('cancelled slow request gets no response; server keeps serving concurrently', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    const slow = c.start('tools/call', { name: 'slow', arguments: { ms: 400 } }, undefined, 1000);
    const other = c.start('tools/call', { name: 'slow', arguments: { ms: 50 } });
    // a quick request is answered while both slow ones are pending
    const echo = await call(c, 'echo', { text: 'during' });
    assert.equal(echo.result.content[0].text, 'during');
    c.notify('notifications/cancelled', { requestId: slow.id, reason: 'test' });
    assert.equal((await other.response).result.content[0].text, 'slept 50 ms');
    await assert.rejects(slow.response, /timeout/);
    assert.match(c.stderr, /cancelled: test/);
    await c.close();
  });

  test('progress notifications carry the token', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    const { response } = c.start('tools/call', { name: 'progress', arguments: { steps: 3, delay_ms: 5 }, _meta: { progressToken: 'tok' } });
    const r = await response;
    assert.match(r.result.content[0].text, /3 progress notifications/);
    const progress = c.messages.filter((m) => m.method === 'notifications/progress');
    assert.deepEqual(progress.map((p) => p.params.progress), [1, 2, 3]);
    assert.ok(progress.every((p) => p.params.progressToken === 'tok' && p.params.total === 3));
    await c.close();
  });

  test('sampling round trip to the client, and error when unsupported', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize('2025-11-25', { sampling: {} });
    const { response } = c.start('tools/call', { name: 'sample', arguments: { prompt: 'hello?' } });
    const req = await c.waitFor((m) => m.method === 'sampling/createMessage');
    assert.equal(typeof req.id, 'string');
    assert.equal(req.params.messages[0].content.text, 'hello?');
    c.send({ jsonrpc: '2.0', id: req.id, result: { role: 'assistant', content: { type: 'text', text: 'sampled!' }, model: 'm', stopReason: 'endTurn' } });
    assert.equal((await response).result.content[0].text, 'sampled!');
    await c.close();

    const d = new RawClient(DEMO_SERVER);
    await d.initialize();
    const r = await call(d, 'sample', { prompt: 'x' });
    assert.equal(r.result.isError, true);
    await d.close();
  });

  test('logging respects setLevel', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    assert.deepEqual((await c.request('logging/setLevel', { level: 'warning' })).result, {});
    await call(c, 'log', { level: 'info', message: 'quiet' });
    await call(c, 'log', { level: 'error', message: 'loud' });
    const logs = c.messages.filter((m) => m.method === 'notifications/message');
    assert.deepEqual(logs.map((l) => l.params.data), ['loud']);
    await c.close();
  });

  test('resources, templates, prompts, completion', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    const readme = await c.request('resources/read', { uri: 'demo://readme' });
    assert.match(readme.result.contents[0].text, /demo server/);
    const logo = await c.request('resources/read', { uri: 'demo://logo' });
    assert.equal(Buffer.from(logo.result.contents[0].blob, 'base64').subarray(1, 4).toString(), 'PNG');
    const note = await c.request('resources/read', { uri: 'demo://notes/42' });
    assert.match(note.result.contents[0].text, /Note 42/);
    assert.equal((await c.request('resources/read', { uri: 'demo://missing' })).error.code, -32002);
    const tpl = await c.request('resources/templates/list', {});
    assert.equal(tpl.result.resourceTemplates[0].uriTemplate, 'demo://notes/{id}');
    assert.deepEqual((await c.request('resources/subscribe', { uri: 'demo://readme' })).result, {});
    const prompts = await c.request('prompts/list', {});
    assert.equal(prompts.result.prompts[0].name, 'greet');
    const got = await c.request('prompts/get', { name: 'greet', arguments: { name: 'Ada' } });
    assert.match(got.result.messages[0].content.text, /Ada/);
    assert.equal((await c.request('prompts/get', { name: 'greet', arguments: {} })).error.code, -32602);
    const comp = await c.request('completion/complete', { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'al' } });
    assert.deepEqual(comp.result.completion.values, ['Alan', 'Alice']);
    await c.close();
  });

  test('malformed line gives -32700 with null id, then normal service', async () => {
    const c = new RawClient(DEMO_SERVER);
    c.sendRaw('{bad json');
    const err = await c.waitFor((m) => 'error' in m);
    assert.equal(err.error.code, -32700);
    assert.equal(err.id, null);
    assert.match(err.__raw, /"id":null/);
    const r = await c.initialize();
    assert.equal(r.result.protocolVersion, '2025-11-25');
    c.send({ jsonrpc: '1.0', id: 9, method: 'ping' });
    assert.equal((await c.waitFor((m) => m.id === 9)).error.code, -32600);
    await c.close();
  });

  test('crash exits with status 3 and no response', async () => {
    const c = new RawClient(DEMO_SERVER);
    await c.initialize();
    c.start('tools/call', { name: 'crash', arguments: {} }, undefined, 500).response.catch(() => {});
    const { code } = await c.exited;
    assert.equal(code, 3);
    assert.equal(c.messages.filter((m) => 'result' in m || 'error' in m).length, 0);
  });
});
