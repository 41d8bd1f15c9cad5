import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, DOCS_SERVER } from './rpc-client.mjs';

const call = (c, name, args) => c.request('tools/call', { name, arguments: args });

describe('demo docs server', () => {
  test('initialize and tools/list', async () => {
    const c = new RawClient(DOCS_SERVER);
    const r = await c.initialize('2025-06-18');
    assert.equal(r.result.protocolVersion, '2025-06-18');
    assert.equal(r.result.serverInfo.name, 'demo-docs');
    const list = await c.request('tools/list', {});
    assert.deepEqual(list.result.tools.map((t) => t.name).sort(), ['get-library-docs', 'resolve-library-id']);
    await c.close();
  });

  test('resolve-library-id finds the bundled libraries', async () => {
    const c = new RawClient(DOCS_SERVER);
    await c.initialize();
    const cases = { 'http client': '/fetchwave/fetchwave', chronoflux: '/chronoflux/chronoflux', 'cli parser': '/quiverjs/quiver' };
    for (const [q, id] of Object.entries(cases)) {
      const r = await call(c, 'resolve-library-id', { libraryName: q });
      const text = r.result.content[0].text;
      const first = /Context7-compatible library ID: (\S+)/.exec(text)[1];
      assert.equal(first, id, q);
    }
    const none = await call(c, 'resolve-library-id', { libraryName: 'zzzz' });
    assert.match(none.result.content[0].text, /No libraries found/);
    await c.close();
  });

  test('get-library-docs returns 15-60 KB of noisy markdown', async () => {
    const c = new RawClient(DOCS_SERVER);
    await c.initialize();
    for (const id of ['/fetchwave/fetchwave', '/chronoflux/chronoflux', '/quiverjs/quiver/v6.0.3']) {
      const r = await call(c, 'get-library-docs', { context7CompatibleLibraryID: id });
      const text = r.result.content[0].text;
      const kb = Buffer.byteLength(text) / 1024;
      assert.ok(kb >= 15 && kb <= 60, `${id}: ${kb.toFixed(1)} KB`);
      assert.match(text, /```/);
      assert.match(text, /Table of Contents/);
      assert.match(text, /cookies/);
      assert.match(text, /img\.shields\.io/);
    }
    const topical = await call(c, 'get-library-docs', { context7CompatibleLibraryID: '/fetchwave/fetchwave', topic: 'retries', tokens: 2000 });
    const t = topical.result.content[0].text;
    assert.ok(t.length <= 2000 * 4 + 500);
    assert.match(t, /## Retries/);
    const bad = await call(c, 'get-library-docs', { context7CompatibleLibraryID: '/nope/nope' });
    assert.equal(bad.result.isError, true);
    await c.close();
  });
});
