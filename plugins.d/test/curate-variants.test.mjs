// curate's rules for variants of one example, Context7 snippet lists, Sphinx definition terms
// converted to Markdown, a man page's synopsis, and the explanation it gives when asked. Each
// test builds a small page for its rule and fails with the rule switched off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import plugin, { detectFormat } from '../curate.mjs';
import { codeVariant, queryVariant } from '../lib/variants.mjs';

const NOTE_START = '\n\n---\n[curated by plugboard:';
let fillerCount = 0;
/** Prose that matches none of the queries below; numbered so that no two paragraphs repeat. */
function filler(paragraphs = 3) {
  const out = [];
  for (let i = 0; i < paragraphs; i++) {
    fillerCount++;
    out.push(`Paragraph ${fillerCount} lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat number ${fillerCount}.`);
  }
  return out.join('\n\n');
}

function call(rawContent, query, { maxTokens = 1200, config = {} } = {}) {
  return plugin.response({ rawContent, maxTokens, metadata: { userQuery: query }, arguments: {}, toolName: 'docs', config });
}

const ESM = "```mjs\nimport { ask } from 'node:prompter/promises';\n\nconst answer = await ask('What is your name? ');\nconsole.log(answer);\n```";
const CJS = "```cjs\nconst { ask } = require('node:prompter');\n\nask('What is your name? ', (err, answer) => {\n  console.log(answer);\n});\n```";

function prompterPage() {
  const others = Array.from({ length: 12 }, (_, i) => `## \`prompter.other${i}()\`\n\n${filler(3)}`).join('\n\n');
  return `# Prompter\n\n${filler(2)}\n\n## \`prompter.ask(question)\`\n\nAsks the user a question on the terminal and reads the answer.\n\n${ESM}\n\n${CJS}\n\n${others}\n`;
}

describe('variants of one example', () => {
  test('a code block is classified by module system and style', () => {
    assert.deepEqual(codeVariant({ lines: ESM.split('\n') }), { module: 'esm', style: 'promise' });
    assert.deepEqual(codeVariant({ lines: CJS.split('\n') }), { module: 'cjs', style: 'callback' });
    assert.deepEqual(codeVariant({ lines: ['```js', "const fs = require('node:fs');", "fs.readFile('a', (err, data) => {});", '```'] }), { module: 'cjs', style: 'callback' });
    const q = queryVariant('read a file with a callback in CommonJS');
    assert.equal(q.module, 'cjs');
    assert.equal(q.style, 'callback');
    assert.deepEqual(queryVariant('read a file'), { module: 'esm', style: 'promise', named: { module: false, style: false } });
  });

  test('the query names the variant: promises keep the ES module one, a callback in CommonJS the other', () => {
    const page = prompterPage();
    const promises = call(page, 'ask the user a question with promises');
    assert.ok(promises.text.includes("const answer = await ask('What is your name? ');"), promises.text);
    assert.ok(!promises.text.includes("require('node:prompter')"), 'the CommonJS callback variant is left out');
    const callback = call(page, 'ask the user a question with a callback in CommonJS');
    assert.ok(callback.text.includes("ask('What is your name? ', (err, answer) => {"), callback.text);
  });

  test('naming no variant keeps the modern one', () => {
    const out = call(prompterPage(), 'ask the user a question');
    assert.ok(out.text.includes("import { ask } from 'node:prompter/promises';"));
    assert.ok(!out.text.includes("require('node:prompter')"));
  });

  test('code blocks that are not variants of each other are all kept', () => {
    const page = prompterPage().replace(CJS, "```mjs\nimport { ask } from 'node:prompter/promises';\n\nconst again = await ask('And your age? ');\n```");
    const out = call(page, 'ask the user a question with promises');
    assert.ok(out.text.includes("const answer = await ask('What is your name? ');"));
    assert.ok(out.text.includes("const again = await ask('And your age? ');"));
  });
});

function context7List() {
  const snippet = (title, description, code, n) => [
    `TITLE: ${title}`,
    `DESCRIPTION: ${description}`,
    `SOURCE: https://example.org/docs/api.md#_snippet_${n}`,
    '',
    'LANGUAGE: javascript',
    'CODE:',
    '```',
    ...code,
    '```',
  ].join('\n');
  const list = [];
  for (let i = 0; i < 20; i++) list.push(snippet(`widget.paint${i}()`, filler(1), [`const w${i} = makeWidget();`, `w${i}.paint${i}({ colour: 'blue' });`], i));
  list.splice(7, 0, [
    snippet('store.connect(url)', 'Opens a connection to the store at the given URL and resolves once it is ready.', ["import { connect } from 'store';", "const db = await connect('store://localhost');"], 99),
    '',
    'LANGUAGE: javascript',
    'CODE:',
    '```',
    "const { connect } = require('store');",
    "connect('store://localhost', (err, db) => {});",
    '```',
  ].join('\n'));
  return list.join('\n\n----------------------------------------\n\n') + '\n';
}

describe('Context7 snippet lists', () => {
  test('are recognised; each TITLE starts a section; the snippet that answers is kept, in the variant asked for', () => {
    const list = context7List();
    assert.equal(detectFormat(list), 'context7');
    const out = call(list, 'connect to the store with await');
    assert.equal(out.metadata.format, 'context7');
    assert.equal(out.metadata.sectionsTotal, 21);
    assert.ok(out.text.includes('TITLE: store.connect(url)'));
    assert.ok(out.text.includes("const db = await connect('store://localhost');"));
    assert.ok(!out.text.includes("require('store')"), 'the CommonJS variant is left out');
    assert.ok(!out.text.split(NOTE_START)[0].includes('paint3('), 'no unrelated snippet');
  });
});

describe('Sphinx definition terms in Markdown', () => {
  test('a line ending in ¶ at the start of a paragraph is an entry of its own', () => {
    const entries = ['alpha', 'beta', 'gamma', 'delta', 'omega'].map((n) => `kit.${n}(value)¶\n:   ${n === 'gamma' ? 'Compresses the value with the gamma codec and returns the compressed bytes.' : filler(1)}\n\n    ${filler(1)}`);
    const page = `# kit — a toolkit¶\n\n${filler(2)}\n\n## Functions¶\n\n${entries.join('\n\n')}\n\n## Notes¶\n\n${filler(8)}\n`;
    const out = call(page, 'compress bytes with gamma', { maxTokens: 600 });
    assert.ok(out.metadata.sectionsTotal >= 7, `sections: ${out.metadata.sectionsTotal}`);
    assert.ok(out.text.includes('kit.gamma(value)¶'));
    assert.ok(!out.text.split(NOTE_START)[0].includes('kit.beta(value)¶'), out.text);
  });
});

describe("a man page's synopsis", () => {
  test('comes with what answers the query when it is small', () => {
    const man = [
      'frob(2)                System Calls Manual                frob(2)', '',
      'NAME', '       frob - adjust a descriptor', '',
      'SYNOPSIS', '       #include <frob.h>', '', '       int frob(int fd, unsigned int level);', '',
      'DESCRIPTION', ...filler(6).split('\n\n').flatMap((p) => ['       ' + p, '']),
      '       The level argument selects how strongly the descriptor is tightened.', '',
      'ERRORS', ...filler(6).split('\n\n').flatMap((p) => ['       ' + p, '']),
      'SEE ALSO', '       fcntl(2)', '',
    ].join('\n');
    assert.equal(detectFormat(man), 'plain');
    const out = call(man, 'how strongly is the descriptor tightened', { maxTokens: 700 });
    assert.ok(out.text.includes('       int frob(int fd, unsigned int level);'), out.text);
    assert.ok(out.text.includes('       The level argument selects how strongly the descriptor is tightened.'));
  });
});

describe('explain', () => {
  test('metadata.explain says for each section whether it was kept, its score and why; only when asked', () => {
    const page = prompterPage();
    assert.equal(call(page, 'ask a question with promises').metadata.explain, undefined);
    const out = call(page, 'ask a question with promises', { config: { explain: true } });
    const ex = out.metadata.explain;
    assert.ok(Array.isArray(ex.sections) && ex.sections.length === out.metadata.sectionsTotal);
    assert.equal(ex.budget.maxTokens, 1200);
    assert.equal(ex.query.variant.style, 'promise');
    assert.equal(ex.query.variant.named.style, true);
    for (const s of ex.sections) {
      assert.equal(typeof s.heading, 'string');
      assert.ok(['whole', 'part', 'no'].includes(s.kept));
      assert.equal(typeof s.score, 'number');
      assert.ok(Array.isArray(s.matched));
      assert.ok(s.reasons.length > 0, `no reason for ${s.heading}`);
    }
    const ask = ex.sections.find((s) => s.heading.endsWith('prompter.ask(question)'));
    assert.notEqual(ask.kept, 'no');
    assert.ok(ask.matched.includes('ask'));
    assert.ok(ask.reasons.some((r) => /left out (?:CommonJS|callback) variant/.test(r)), ask.reasons.join('; '));
    const other = ex.sections.find((s) => s.heading.endsWith('prompter.other3()'));
    assert.equal(other.kept, 'no');
    assert.deepEqual(other.reasons, ['no query term matches']);
    assert.equal(ex.sections.filter((s) => s.kept !== 'no').length, out.metadata.sectionsKept);
  });
});

describe('API styles', () => {
  test('a query that names a style ranks the entries of the other style lower', () => {
    const entry = (api, title, text) => `### \`${title}\`\n\n${text}\n\n${filler(2)}`;
    const page = [
      '# Prompter', filler(2),
      '## Promises API', entry('p', 'prompter.ask(question)', 'Asks the user a question and resolves with the answer.'),
      '## Callback API', entry('c', 'prompter.ask(question, callback)', 'Asks the user a question and calls back with the answer to the question, each question asked once; unlike the promise version, ask returns no promise (promises: see above): asking a question this way takes a callback.'),
      ...Array.from({ length: 10 }, (_, i) => `## Other ${i}\n\n${filler(3)}`),
    ].join('\n\n');
    const body = (out) => out.text.split(NOTE_START)[0];
    const promises = call(page, 'ask a question with promises', { maxTokens: 300 });
    assert.ok(body(promises).includes('### `prompter.ask(question)`'), promises.text);
    assert.ok(!body(promises).includes('prompter.ask(question, callback)'), promises.text);
    const callback = call(page, 'ask a question with a callback', { maxTokens: 300 });
    assert.ok(body(callback).includes('prompter.ask(question, callback)'), callback.text);
  });
});
