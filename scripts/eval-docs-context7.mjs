#!/usr/bin/env node
// Turns a Node.js API Markdown page into a Context7-style snippet list, for curate's
// evaluation: the shape of the text Context7's `get-library-docs` returns. Each code example
// (consecutive code blocks with only blank lines between them, such as the ESM and CommonJS
// variants of one example, form one snippet) becomes
//
//   TITLE: <the heading above it, without backticks>
//   DESCRIPTION: <the paragraph that introduces it, links reduced to their labels>
//   SOURCE: https://github.com/nodejs/node/blob/v<version>/doc/api/<page>.md#_snippet_<n>
//
//   LANGUAGE: javascript
//   CODE:
//   ```
//   <the code, as in the page>
//   ```
//
// one LANGUAGE/CODE pair per block, snippets separated by a line of 40 dashes. Deterministic:
// the same page gives the same list. Context7 writes its descriptions with a model; here the
// description is the page's own paragraph, so every line of the list comes from the page.
//
// Usage: eval-docs-context7.mjs NODE_VERSION OUT_DIR IN.md... (writes OUT_DIR/<page>.txt)
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const SEPARATOR = '-'.repeat(40);
// Context7 names languages as GitHub does; the Node.js docs tag ESM and CommonJS apart.
const LANGUAGES = { js: 'javascript', mjs: 'javascript', cjs: 'javascript', javascript: 'javascript', console: 'console', bash: 'bash', sh: 'bash', text: 'text', json: 'json', c: 'c', cpp: 'cpp', http: 'http', ts: 'typescript', typescript: 'typescript' };

export function toContext7(markdown, { version, page }) {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const blocks = []; // {type: 'heading'|'para'|'code', ...}
  let para = [];
  const flush = () => { if (para.length) blocks.push({ type: 'para', text: para.join(' ') }); para = []; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^(\s*)(```+|~~~+)\s*([\w+-]*)/);
    if (fence) {
      flush();
      const body = [];
      let j = i + 1;
      for (; j < lines.length && !lines[j].trimStart().startsWith(fence[2]); j++) body.push(lines[j]);
      blocks.push({ type: 'code', lang: fence[3].toLowerCase(), lines: body });
      i = j;
      continue;
    }
    const heading = line.match(/^#{1,6}\s+(.*)$/);
    if (heading) { flush(); blocks.push({ type: 'heading', text: heading[1] }); continue; }
    if (line.trim() === '') { flush(); continue; }
    if (/^\s*<!--/.test(line)) {
      flush();
      while (i < lines.length && !lines[i].includes('-->')) i++;
      continue;
    }
    para.push(line.trim());
  }
  flush();

  const snippets = [];
  let title = basename(page, '.md');
  let intro = '';
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (b.type === 'heading') { title = plain(b.text); intro = ''; continue; }
    if (b.type === 'para') { intro = plain(b.text); continue; }
    const group = [b];
    while (blocks[i + 1]?.type === 'code') group.push(blocks[++i]);
    if (group.every((g) => g.lines.every((l) => l.trim() === ''))) continue;
    const n = snippets.length;
    const parts = [
      `TITLE: ${title}`,
      `DESCRIPTION: ${intro || title}`,
      `SOURCE: https://github.com/nodejs/node/blob/v${version}/doc/api/${page}#_snippet_${n}`,
    ];
    for (const g of group) parts.push('', `LANGUAGE: ${LANGUAGES[g.lang] ?? (g.lang || 'text')}`, 'CODE:', '```', ...g.lines, '```');
    snippets.push(parts.join('\n'));
    intro = '';
  }
  return snippets.join(`\n\n${SEPARATOR}\n\n`) + '\n';
}

/** Markdown inline text as plain text: links to their labels, no backticks or emphasis markers. */
function plain(text) {
  return text.replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1').replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '').replace(/\*\*([^*]+)\*\*/g, '$1').replace(/\s+/g, ' ').trim();
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const [version, outDir, ...inputs] = process.argv.slice(2);
  if (!version || !outDir || inputs.length === 0) {
    console.error('usage: eval-docs-context7.mjs NODE_VERSION OUT_DIR IN.md...');
    process.exit(2);
  }
  for (const input of inputs) {
    const page = basename(input);
    writeFileSync(join(outDir, `${basename(page, '.md')}.txt`), toContext7(readFileSync(input, 'utf8'), { version, page }));
  }
}
