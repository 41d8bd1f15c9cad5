// Tests for plugins.d/curate.mjs. Run: node --test plugins.d/test/
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin, { autoBudget, curate, detectFormat, estimateTokens } from '../curate.mjs';
import { terms } from '../lib/bm25.mjs';
import { htmlToMarkdown } from '../lib/html.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const DOCS = join(ROOT, 'contrib', 'demo-docs', 'docs');
const read = (p) => readFileSync(p, 'utf8');
const NOTE_START = '\n\n---\n[curated by plugboard:';

const report = [];
after(() => {
  const rows = report.map((r) => `| ${r.name.padEnd(44)} | ${r.format.padEnd(8)} | ${String(r.originalTokens).padStart(6)} | ${String(r.keptTokens).padStart(5)} | ${(r.reduction * 100).toFixed(1).padStart(5)}% | ${r.ms.toFixed(1).padStart(6)} |`);
  console.log(['', '| case | format | tokens in | out | reduction | ms (warm) |', '|---|---|---:|---:|---:|---:|', ...rows].join('\n'));
});

/** Calls the plugin the way the plugin host does, and records the reduction. */
function run(name, rawContent, { query = null, maxTokens = null, args = {}, config = {}, toolName = 'get-library-docs', record = true } = {}) {
  const input = {
    toolName,
    rawContent,
    maxTokens,
    metadata: { requestId: 1, timestamp: '2026-11-01T00:00:00Z', serverName: 'docs', phase: 'response', userQuery: query },
    method: 'tools/call',
    arguments: args,
    result: { content: [{ type: 'text', text: rawContent }] },
    config,
  };
  plugin.response(input); // warm-up: workers are warm in production
  const t0 = performance.now();
  const out = plugin.response(input);
  const ms = performance.now() - t0;
  if (out && record) report.push({ name, format: out.metadata.format, ...out.metadata, ms });
  return out;
}

/** The fenced code block of `source` that contains `marker`, fences included. */
function codeBlock(source, marker) {
  const at = source.indexOf(marker);
  assert.ok(at >= 0, `marker ${marker} not in source`);
  const start = source.lastIndexOf('\n```', at) + 1;
  const end = source.indexOf('\n```', at) + 4;
  return source.slice(start, end);
}

/** The paragraph just before the code block containing `marker`. */
function introOf(source, marker) {
  const block = codeBlock(source, marker);
  const before = source.slice(0, source.indexOf(block)).replace(/\n+$/, '');
  return before.slice(before.lastIndexOf('\n\n') + 2);
}

function body(text) {
  const i = text.indexOf(NOTE_START);
  return i >= 0 ? text.slice(0, i) : text;
}

function assertSubsetOfLines(text, source) {
  const lines = new Set(source.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd()));
  for (const line of body(text).split('\n')) {
    if (line.trim() === '') continue;
    assert.ok(lines.has(line.trimEnd()), `line not in source: ${JSON.stringify(line.slice(0, 120))}`);
  }
}

function assertHeadingsInOrder(text, source) {
  let last = -1;
  for (const line of body(text).split('\n')) {
    if (!/^#{1,6} /.test(line)) continue;
    const at = source.indexOf('\n' + line + '\n', last);
    assert.ok(at > last, `heading out of order or missing: ${line}`);
    last = at;
  }
}

function assertNoNoise(text) {
  const t = body(text);
  for (const noise of ['img.shields.io', 'Table of Contents', 'We use cookies', 'Accept all', 'Permission is hereby granted',
    'THE SOFTWARE IS PROVIDED', 'Edit this page', 'Was this page helpful', 'Skip to main content', 'Last updated on',
    'Back to top', 'On this page', 'Built with Docusaurus', '← Previous', 'Search docs']) {
    assert.ok(!t.includes(noise), `noise left in output: ${noise}`);
  }
}

function assertNote(text, { omitted = [] } = {}) {
  const note = text.slice(text.indexOf(NOTE_START));
  assert.match(note, /^\n\n---\n\[curated by plugboard: kept \d+ of \d+ sections \(~\d+ of ~\d+ tokens\)(?:, the first one trimmed|, (?:one|\d+) of them trimmed)?(?:\. Omitted: .+ — ask for a topic to see them\.\]|; navigation and boilerplate removed\.\])$/);
  for (const title of omitted) assert.ok(note.includes(`"${title}"`), `note does not list ${title}: ${note}`);
}

const CASES = [
  {
    name: 'fetchwave: "retry with backoff"',
    file: 'fetchwave.md',
    query: 'retry with backoff',
    code: ['respectRetryAfter: true', 'api.hooks.beforeRetry.push'],
    facts: ['maxRetryAfter', 'baseDelay * 2 ** attempt', 'Retry-After'],
    omitted: ['Installation', 'Interceptors'],
  },
  {
    name: 'fetchwave: "cancel a request with AbortSignal"',
    file: 'fetchwave.md',
    query: 'cancel a request with AbortSignal',
    code: ["controller.abort('user typed again')"],
    facts: ['AbortSignal.any'],
    omitted: ['Installation', 'Retries'],
  },
  {
    name: 'chronoflux: "parse ISO dates with timezone"',
    file: 'chronoflux.md',
    query: 'parse ISO dates with timezone',
    code: ["DateTime.fromISO('2026-03-14T15:09:26.535+01:00');", "Settings.defaultZone = 'Europe/London';"],
    facts: ['invalidReason', 'disambiguation', 'setZone'],
    omitted: ['Installation', 'Manipulation'],
  },
  {
    name: 'chronoflux: topic "durations and intervals"',
    file: 'chronoflux.md',
    query: null,
    args: { context7CompatibleLibraryID: '/chronoflux/chronoflux', topic: 'durations and intervals' },
    code: ['Duration.fromObject({ hours: 2, minutes: 90 })', "b.diff(a, ['years', 'months', 'days'])"],
    facts: ['splitBy'],
    omitted: ['Parsing', 'Time Zones'],
  },
  {
    name: 'quiver: "subcommands and flags"',
    file: 'quiver.md',
    query: 'subcommands and flags',
    code: [".add(command('remote')", "flag('color', { default: true, negatable: true })"],
    facts: ['.strict()', '.passthrough()'],
    omitted: ['Install', 'Shell Completion'],
  },
  {
    name: 'quiver: "validation errors exit code"',
    file: 'quiver.md',
    query: 'validation errors exit code',
    code: ['app.onError((err, ctx) => {'],
    facts: ['exits with code 2'],
    omitted: ['Install'],
  },
];

describe('curate on the demo docs', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const source = read(join(DOCS, c.file));
      const out = run(c.name, source, { query: c.query, args: c.args ?? {}, config: { max_tokens: 2000 } });
      assert.ok(out, 'expected a curated result');
      assert.deepEqual(Object.keys(out).sort(), ['metadata', 'text']);
      const m = out.metadata;
      for (const key of ['originalTokens', 'keptTokens', 'reduction', 'sectionsKept', 'sectionsTotal', 'query']) assert.ok(key in m, key);
      assert.ok(m.reduction >= 0.6, `reduction ${m.reduction} < 0.6`);
      assert.ok(estimateTokens(out.text) <= 2000, 'over budget');
      assert.ok(m.sectionsKept > 0 && m.sectionsKept < m.sectionsTotal);
      for (const marker of c.code) {
        const block = codeBlock(source, marker);
        assert.ok(out.text.includes(block), `code block with ${marker} not kept whole`);
        const intro = introOf(source, marker);
        if (!intro.startsWith('#') && !intro.startsWith('```')) assert.ok(out.text.includes(`${intro}\n\n${block}`), `intro of ${marker} not kept with it`);
      }
      for (const fact of c.facts) assert.ok(out.text.includes(fact), `fact ${fact} missing`);
      assertNoNoise(out.text);
      assertNote(out.text, { omitted: c.omitted });
      assertSubsetOfLines(out.text, source);
      assertHeadingsInOrder(out.text, source);
      // Fences are balanced.
      assert.equal((body(out.text).match(/^```/gm) || []).length % 2, 0);
      // Deterministic.
      assert.equal(run(c.name, source, { query: c.query, args: c.args ?? {}, config: { max_tokens: 2000 }, record: false }).text, out.text);
    });
  }

  test('a result served by the demo docs server itself (Context7 header, topic argument)', async () => {
    const raw = await callDemoDocs({ context7CompatibleLibraryID: '/fetchwave/fetchwave', topic: 'error handling' });
    assert.match(raw, /CONTEXT7 DOCUMENTATION: Fetchwave/);
    const out = run('demo server: fetchwave topic "error handling"', raw, { query: 'error handling', args: { topic: 'error handling' } });
    assert.ok(out.metadata.reduction >= 0.6);
    assert.ok(out.text.includes(codeBlock(raw, "import { HTTPError, TimeoutError, NetworkError, ParseError } from 'fetchwave';")));
    assert.ok(out.text.includes('| `TimeoutError` | `timeout` elapsed | `timeout`, `request` |'));
    assertNoNoise(out.text);
    assertSubsetOfLines(out.text, raw);
  });

  test('a tool argument budget (maxTokens) is honoured', () => {
    const source = read(join(DOCS, 'fetchwave.md'));
    const out = run('fetchwave: "interceptors", 800 tokens', source, { query: 'interceptors', maxTokens: 800 });
    assert.ok(estimateTokens(out.text) <= 800);
    assert.ok(out.text.includes("api.interceptors.request.use(async (request) => {"));
  });

  test('a top section larger than the budget is trimmed by paragraphs, code kept whole', () => {
    const source = read(join(DOCS, 'fetchwave.md'));
    const r = curate(source, { query: 'install fetchwave with npm', maxTokens: 140 });
    assert.ok(r.trimmed);
    assert.ok(estimateTokens(r.text) <= 140);
    assert.ok(r.text.includes('Using npm:\n\n```bash\nnpm install fetchwave\n```'));
    assert.equal((body(r.text).match(/^```/gm) || []).length % 2, 0);
    assertSubsetOfLines(r.text, source);
  });

  test('keep_sections_matching pins sections', () => {
    const source = read(join(DOCS, 'quiver.md'));
    const out = run('quiver: pinned "Quick Start"', source, { query: 'shell completion', config: { keep_sections_matching: ['^Quiver › Quick Start$'] }, record: false });
    assert.ok(out.text.includes('## Quick Start'));
    assert.ok(out.text.includes('## Shell Completion'));
  });
});

describe('curate on other formats', () => {
  test('an HTML documentation page', () => {
    const html = read(join(HERE, 'fixtures', 'tidepool.html'));
    assert.equal(detectFormat(html), 'html');
    const md = htmlToMarkdown(html);
    assert.ok(md.includes('## Timeouts'));
    assert.ok(md.includes('```js\nconst pool = createPool({\n  create, destroy,\n  acquireTimeout: 5_000,'));
    assert.ok(!/<(?:div|span|script|style|nav|pre)\b/.test(md));
    for (const chrome of ['window.__DOCS_INDEX__', 'Migrating from generic-pool', 'We use cookies', 'Skip to main content', 'Copyright ©', '« Introduction', 'Copy code']) {
      assert.ok(!md.includes(chrome), `page chrome survived conversion: ${chrome}`);
    }
    const out = run('tidepool.html: "timeouts for acquire and idle connections"', html, { query: 'timeouts for acquire and idle connections', maxTokens: 1000 });
    assert.equal(out.metadata.format, 'html');
    assert.ok(out.metadata.reduction >= 0.8);
    assert.ok(out.text.includes(codeBlock(md, 'acquireTimeout: 5_000,')));
    assert.ok(out.text.includes('| `idleTimeout` | 60000 | Milliseconds before idle connections close |'));
    assertNoNoise(out.text);
    assertSubsetOfLines(out.text, md);
    const retry = run('tidepool.html: "retry connection failures with backoff"', html, { query: 'retry connection failures with backoff' });
    assert.ok(retry.text.includes(codeBlock(md, 'createRetry: { attempts: 5')));
    assert.ok(!retry.text.includes('Permission is hereby granted'));
  });

  test('an id made from a title is a content anchor, not chrome; an id of chrome words alone is chrome', () => {
    const md = htmlToMarkdown('<html><body><div id="SQL-FOR-UPDATE-SHARE"><h3>The Locking Clause</h3><p>Use SKIP LOCKED.</p></div>' +
      '<section id="cookie-objects"><h2>Cookie Objects</h2><p>Morsel.</p></section>' +
      '<div id="site-footer"><p>Footer links</p></div><div id="cookie-consent"><p>We use cookies</p></div></body></html>');
    for (const kept of ['The Locking Clause', 'Use SKIP LOCKED.', 'Cookie Objects']) assert.ok(md.includes(kept), kept);
    for (const dropped of ['Footer links', 'We use cookies']) assert.ok(!md.includes(dropped), dropped);
  });

  test('Markdown with HTML tables in it is read as Markdown', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `<tr><td><code>E${i}</code></td><td>Error ${i}.</td></tr>`).join('\n');
    const page = `# OS\n\nIntro.\n\n## \`os.cpus()\`\n\nReturns the CPUs.\n\n## Constants\n\n<table>\n${rows}\n</table>\n\n## \`os.arch()\`\n\nReturns the architecture.\n`;
    assert.equal(detectFormat(page), 'markdown');
  });

  test('a man page (plain text)', () => {
    const man = read(join(HERE, 'fixtures', 'logsift.1.txt'));
    assert.equal(detectFormat(man), 'plain');
    const out = run('logsift.1: "group records by a field", 700', man, { query: 'group records by a field and show the top groups', maxTokens: 700 });
    assert.equal(out.metadata.format, 'plain');
    assert.ok(out.metadata.reduction >= 0.6);
    assert.ok(out.text.includes('       -g FIELD, --group-by=FIELD\n              Group matching records by the value of FIELD and print one'));
    assert.ok(out.text.includes('       --top=N\n              With --group-by, print only the N largest groups.'));
    assert.ok(!out.text.includes('GNU GPL version 3'));
    assertSubsetOfLines(out.text, man);
    assertNote(out.text, { omitted: ['Matching Control'] });
  });
});

// Filler prose for synthetic pages: words that match no query below, numbered so that no two
// paragraphs are the same (curate drops repeated ones).
const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.';
let fillerCount = 0;
const filler = (sentences) => Array.from({ length: sentences }, () => `${LOREM} (${++fillerCount})`).join(' ');
/** A page of `count` sections, each about `tokens` tokens of filler. */
const fillerPage = (count, tokens) => ['# Filler', ...Array.from({ length: count }, (_, i) => `## Part ${i + 1}\n\n${filler(Math.ceil(tokens / 30))}`)].join('\n\n');

describe('the automatic budget', () => {
  test('30 % of the documentation, at least 2,000 and at most 10,000 tokens', () => {
    assert.equal(autoBudget(1000), 2000);
    assert.equal(autoBudget(20000), 6000);
    assert.equal(autoBudget(100000), 10000);
  });

  test('is used when no budget is configured, and reported in metadata', () => {
    const page = fillerPage(60, 330); // ~20,000 tokens
    const out = run('filler, automatic budget', page, { query: 'part', record: false });
    const m = out.metadata;
    assert.ok(Math.abs(m.maxTokens - 0.3 * m.originalTokens) < 0.03 * m.originalTokens, `budget ${m.maxTokens} for ${m.originalTokens} tokens`);
    assert.ok(estimateTokens(out.text) <= m.maxTokens);
    assert.equal(run('filler, 3000', page, { query: 'part', maxTokens: 3000, record: false }).metadata.maxTokens, 3000);
    assert.equal(run('filler, config 2500', page, { query: 'part', config: { max_tokens: 2500 }, record: false }).metadata.maxTokens, 2500);
  });

  test('a page within the smallest automatic budget passes unchanged', () => {
    const page = fillerPage(5, 330); // ~1,700 tokens
    assert.ok(estimateTokens(page) < 2000);
    assert.equal(run('filler, small', page, { query: 'part', record: false }), null);
  });
});

describe('ranking', () => {
  test('inflections, abbreviations and derived words meet the word they come from', () => {
    const same = (a, b) => assert.deepEqual(terms(a), terms(b), `${a} / ${b}`);
    same('string', 'strings');
    same('sent', 'send');
    same('params', 'parameters');
    same('cancelled', 'canceled');
    same('execution', 'exec');
    assert.ok(terms('name resolution').includes(terms('resolve')[0]));
    assert.ok(terms('DictReader').includes(terms('read')[0]));
  });

  test('a lower-case name ending in an abbreviation also counts as its two words', () => {
    assert.ok(terms('readdir').includes(terms('directory')[0]));
    assert.ok(terms('signalfd(-1, &mask, 0)').includes(terms('descriptor')[0]));
    assert.ok(terms('getenv').includes(terms('environment')[0]));
    assert.ok(!terms('interval').includes(terms('value')[0]), 'an English word is not split');
  });

  test('a related word finds the entry: "resolve" finds `lookup`', () => {
    const page = [
      '# Net',
      '## `net.connect(name, port)`', 'Opens a connection to the machine with the given name.',
      '## `net.lookup(name)`', `Looks up the addresses of a name. ${filler(3)}`,
      ...Array.from({ length: 12 }, (_, i) => `## Notes ${i}\n\n${filler(3)}`),
    ].join('\n\n');
    // Room for one of the two: "name" alone would pick the short net.connect().
    const r = curate(page, { query: 'resolve a name', maxTokens: 180 });
    assert.ok(r.text.includes('## `net.lookup(name)`'), r.text);
    assert.ok(!r.text.includes('## `net.connect(name, port)`'), r.text);
  });

  test('a deprecated or legacy entry yields to the current one that answers as well', () => {
    const entry = (name, mark) => `## \`${name}(text)\`\n\n${mark}Parses the text of a query string into an object of parameters.\n\n${filler(4)}`;
    const page = ['# Query strings', entry('qs.parse', '> Stability: 0 - Deprecated: Use `qs.decode()` instead.\n\n'), entry('qs.decode', ''),
      ...Array.from({ length: 8 }, (_, i) => `## Notes ${i}\n\n${filler(4)}`)].join('\n\n');
    const r = curate(page, { query: 'parse a query string', maxTokens: 330 });
    assert.ok(r.text.includes('## `qs.decode(text)`'), r.text);
    assert.ok(!r.text.includes('## `qs.parse(text)`'), r.text);
  });
});

describe('selection', () => {
  test('a long section gives the one passage that answers, not all of it', () => {
    const page = [
      '# Widgets',
      '## `widget.frobnicate()`', 'Frobnicates the widget.',
      '## Background', ...Array.from({ length: 20 }, () => filler(3)),
      'To frobnicate a widget twice, pass the count:', '```js\nwidget.frobnicate({ count: 2 });\n```',
      ...Array.from({ length: 20 }, () => filler(3)),
      ...Array.from({ length: 6 }, (_, i) => `## Part ${i}\n\n${filler(4)}`),
    ].join('\n\n');
    const r = curate(page, { query: 'frobnicate a widget twice', maxTokens: 500 });
    assert.ok(r.text.includes('To frobnicate a widget twice, pass the count:\n\n```js\nwidget.frobnicate({ count: 2 });\n```'), r.text);
    assert.ok(r.text.includes('## Background'));
    assert.ok(estimateTokens(r.text) <= 500);
    assert.match(r.text, /(?:the first one|one of them) trimmed/);
  });

  test('a usage example elsewhere on the page comes with the entry it calls', () => {
    const page = [
      '# Widgets',
      '## Overview', `${filler(6)} A widget is a small thing.`, 'Use `widget.spin()` to turn a widget:', '```js\nwidget.spin(3);\n```',
      '## `widget.spin(times)`', 'Spins the widget the given number of times.',
      ...['twirl', 'whirl', 'swirl', 'churn', 'roll'].map((v) => `## \`widget.${v}()\`\n\nSpins the widget to ${v} it.`),
    ].join('\n\n');
    const r = curate(page, { query: 'spin a widget', maxTokens: 200 });
    assert.ok(r.text.includes('## `widget.spin(times)`'), r.text);
    assert.ok(r.text.includes('Use `widget.spin()` to turn a widget:\n\n```js\nwidget.spin(3);\n```'), r.text);
    assert.ok(!r.text.includes('A widget is a small thing.'), 'the rest of the overview stays out');
  });

  test('a near copy of a kept section (a promise twin) gives way to a different answer', () => {
    const text = 'Loads the value stored under the key from the store and returns it to the caller, reading the backing file when the value is not cached yet.';
    const page = [
      '# Store',
      '## `store.load(key, callback)`', `${text} The callback receives the value.`,
      '## `storePromises.load(key)`', `${text} The promise resolves to the value.`,
      '## `store.peek(key)`', 'Returns the value stored under the key if the store has it cached; it never loads the file.',
      ...Array.from({ length: 10 }, (_, i) => `## Notes ${i}\n\n${filler(4)}`),
    ].join('\n\n');
    // Room for two of the three; the twin scores second on its own.
    const r = curate(page, { query: 'load the value of a key from the store', maxTokens: 180 });
    assert.ok(r.text.includes('## `store.load(key, callback)`'), r.text);
    assert.ok(r.text.includes('## `store.peek(key)`'), r.text);
    assert.ok(!r.text.includes('## `storePromises.load(key)`'), r.text);
  });
});

describe('selection when the budget is short', () => {
  test('a section that does not fit whole gives its best passage to what is left', () => {
    const page = [
      '# Widgets',
      '## `widget.polish(cloth)`', 'Polishes the widget with a cloth until it shines.',
      '## Caring for a polished widget', filler(1), filler(1), filler(1), 'Polish a widget with a dry cloth, never a wet one.', filler(1), filler(1), filler(1),
      ...Array.from({ length: 6 }, (_, i) => `## Part ${i}\n\n${filler(4)}`),
    ].join('\n\n');
    // The care section scores too far below the entry to be trimmed, and does not fit whole.
    const r = curate(page, { query: 'polish a widget with a cloth', maxTokens: 200 });
    assert.ok(r.text.includes('## `widget.polish(cloth)`'), r.text);
    assert.ok(r.text.includes('## Caring for a polished widget\n\nPolish a widget with a dry cloth, never a wet one.'), r.text);
    assert.ok(estimateTokens(r.text) <= 200);
  });

  test('a short entry the query calls by its name comes before longer sections that use its words', () => {
    const rules = (what) => Array.from({ length: 12 }, (_, i) => `Rule ${what}${i}: a format packs field ${i} of a record as ${i + 1} bytes.`);
    const page = [
      '# Packed records',
      '## Record formats for packing', ...rules('F'),
      '## Packing a record in a format', ...rules('P'),
      '## `rec.pack(fmt, ...values)`', 'Returns the values packed by fmt.',
      ...Array.from({ length: 6 }, (_, i) => `## Part ${i}\n\n${filler(4)}`),
    ].join('\n\n');
    // Room for one of the long sections; on its words alone the entry would come third.
    const r = curate(page, { query: 'pack a record into a format', maxTokens: 300 });
    assert.ok(r.text.includes('## `rec.pack(fmt, ...values)`\n\nReturns the values packed by fmt.'), r.text);
  });
  test('code whose identifiers match the query comes before prose that scores about as well', () => {
    const page = [
      '# Widgets',
      '## Colours', ...Array.from({ length: 10 }, () => filler(3)),
      'Every widget has a default colour; the default colour of a widget is grey.',
      ...Array.from({ length: 4 }, () => filler(3)),
      'For example:', "```js\nconst w = makeWidget();\nsetDefault(w, 'red');\nshowWidget(w);\nmoveWidget(w, 10);\nhideWidget(w);\n```",
      ...Array.from({ length: 10 }, () => filler(3)),
      ...Array.from({ length: 6 }, (_, i) => `## Part ${i}\n\n${filler(4)}`),
    ].join('\n\n');
    // Room for one of the two passages; on the words alone the prose would come first.
    const r = curate(page, { query: 'set the default colour of a widget', maxTokens: 90 });
    assert.ok(r.text.includes("For example:\n\n```js\nconst w = makeWidget();\nsetDefault(w, 'red');"), r.text);
    assert.ok(estimateTokens(r.text) <= 90);
  });
});

describe('curate leaves things alone', () => {
  test('small input is returned unchanged (null)', () => {
    assert.equal(run('small', '# Title\n\nShort text.', { query: 'x', record: false }), null);
    assert.equal(run('empty', '', { record: false }), null);
  });

  test('non-string rawContent is ignored', () => {
    assert.equal(plugin.response({ rawContent: null, config: {} }), null);
  });
});

describe('token estimate', () => {
  test('documented weights', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('abcd'), 1);
    assert.equal(estimateTokens('a'.repeat(400)), 100);
    assert.equal(estimateTokens('x'.repeat(300), { code: true }), 100);
    assert.equal(estimateTokens('ééé'), 3);
    assert.equal(estimateTokens('🎉'), 1); // one code point, two UTF-16 units
    // Inside a fence ASCII weighs 1/3: 4 + 1 + (3 + 1 + 300 + 1 + 3) / 3 → ceil(1.25 + 102.67)
    assert.equal(estimateTokens('text\n```\n' + 'y'.repeat(300) + '\n```'), Math.ceil(5 / 4 + 308 / 3));
  });
});

describe('summarizer hook', () => {
  const source = read(join(DOCS, 'quiver.md'));
  const summarized = (config) => plugin.response({
    toolName: 'get-library-docs', rawContent: source, maxTokens: null, arguments: {}, config,
    metadata: { requestId: 1, timestamp: '2026-11-01T00:00:00Z', serverName: 'docs', phase: 'response', userQuery: 'options' },
  });
  test('its output replaces the text when it succeeds', async () => {
    const out = await summarized({ summarizer: 'head -c 120' });
    assert.equal(out.metadata.summarized, true);
    assert.ok(out.text.length <= 120);
  });
  test('the environment variable names it', async () => {
    process.env.PLUGBOARD_CURATE_SUMMARIZER = 'head -c 50';
    try {
      const out = await summarized({});
      assert.ok(out.text.length <= 50);
    } finally {
      delete process.env.PLUGBOARD_CURATE_SUMMARIZER;
    }
  });
  test('a failing or slow summarizer leaves the deterministic result, reported softly', async () => {
    const plain = run('plain', source, { query: 'options', record: false });
    const failed = await summarized({ summarizer: 'exit 3' });
    assert.equal(failed.text, plain.text);
    assert.match(failed.metadata.summarizerError, /exited with 3/);
    const started = performance.now();
    const slow = await summarized({ summarizer: 'sleep 5', summarizer_timeout_ms: 200 });
    assert.ok(performance.now() - started < 2000, 'the slow command is stopped at its timeout');
    assert.equal(slow.text, plain.text);
    assert.match(slow.metadata.summarizerError, /timed out/);
  });
  test('the worker is not blocked while the summarizer runs: timers fire meanwhile', async () => {
    let ticks = 0;
    const ticker = setInterval(() => { ticks += 1; }, 20);
    try {
      await summarized({ summarizer: 'sleep 0.3; head -c 80' });
    } finally {
      clearInterval(ticker);
    }
    assert.ok(ticks >= 5, `only ${ticks} timer ticks during a 300 ms summarizer`);
  });
});

describe('adversarial inputs', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const MB = 1 << 20;
  const inputs = {
    'one 1 MB line': 'lorem ipsum dolor '.repeat(MB / 18),
    'binary-looking': Array.from({ length: 300000 }, () => String.fromCharCode(Math.floor(random() * 256))).join(''),
    'only code': '```js\n' + 'const x = 1;\n'.repeat(20000) + '```\n',
    'unterminated fences': '```a\n'.repeat(100000),
    'nested unterminated fences': '````x\ntext\n```\n'.repeat(30000),
    'deeply nested HTML': '<div>'.repeat(100000) + 'deep text' + '</div>'.repeat(100000),
    'unclosed HTML': '<html><body>' + '<span><p>'.repeat(100000) + '</i>'.repeat(100000),
    'lone < and quotes': '<a "'.repeat(250000),
    'brackets': '[['.repeat(500000),
    'image openers': '![x]('.repeat(170000),
    'headings only': '# h\n'.repeat(100000),
    'blank run then text': ' '.repeat(MB) + 'x',
    'CRLF markdown': read(join(DOCS, 'quiver.md')).replace(/\n/g, '\r\n'),
  };
  for (const [name, text] of Object.entries(inputs)) {
    test(name, () => {
      const t0 = performance.now();
      const out = plugin.response({ toolName: 't', rawContent: text, maxTokens: 2000, metadata: { userQuery: 'retry with backoff' }, arguments: {}, config: {} });
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `${name} took ${ms.toFixed(0)} ms`);
      if (out) {
        assert.ok(estimateTokens(out.text) <= 2000, 'over budget');
        assert.ok(out.text.includes('[curated by plugboard:'));
      }
    });
  }
});

describe('speed', () => {
  test('a 60 KB document is curated in under 30 ms (warm)', () => {
    const doc = read(join(DOCS, 'fetchwave.md')) + '\n' + read(join(DOCS, 'chronoflux.md'));
    assert.ok(doc.length >= 60000);
    for (let i = 0; i < 5; i++) curate(doc, { query: 'retry with backoff' });
    const times = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      curate(doc, { query: 'parse ISO dates with timezone' });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`60 KB document: median ${median.toFixed(1)} ms, best ${times[0].toFixed(1)} ms over ${times.length} runs`);
    assert.ok(median < 30, `median ${median.toFixed(1)} ms`);
  });
});

/** Calls get-library-docs on the real demo docs server over stdio. */
function callDemoDocs(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'contrib', 'demo-docs', 'server.mjs')], { stdio: ['pipe', 'pipe', 'ignore'] });
    const timer = setTimeout(() => { child.kill(); reject(new Error('demo docs server did not answer')); }, 10000);
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line);
        if (msg.id === 2) {
          clearTimeout(timer);
          child.stdin.end();
          if (msg.error) return reject(new Error(msg.error.message));
          resolve(msg.result.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n'));
        }
      }
    });
    const send = (m) => child.stdin.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curate-test', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-library-docs', arguments: args } });
  });
}
