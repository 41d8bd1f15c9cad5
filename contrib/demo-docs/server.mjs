#!/usr/bin/env node
// Context7-style documentation MCP server (stdio) for plugboard demos.
// Serves three bundled (fictional) libraries from ./docs/*.md as large, noisy Markdown
// so that token-cutting plugins have something realistic to curate.
//
// Env:
//   DEMO_SERVER_NAME  serverInfo.name (default "demo-docs")
//   DEMO_PAGE_SIZE    page size for list methods (default: no pagination)

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpStdioServer, textResult } from '../lib/mcp-stdio-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const NAME = process.env.DEMO_SERVER_NAME || 'demo-docs';

const LIBRARIES = [
  {
    id: '/fetchwave/fetchwave',
    title: 'Fetchwave',
    file: 'fetchwave.md',
    keywords: ['fetchwave', 'http', 'fetch', 'client', 'axios', 'request', 'rest', 'api'],
    description: 'Promise-based HTTP client for the browser, Node.js, Deno and Bun with retries, interceptors and streaming.',
    snippets: 412,
    trust: 8.7,
    versions: ['v4.2.1', 'v3.9.4'],
  },
  {
    id: '/chronoflux/chronoflux',
    title: 'Chronoflux',
    file: 'chronoflux.md',
    keywords: ['chronoflux', 'date', 'time', 'datetime', 'timezone', 'moment', 'luxon', 'duration', 'temporal'],
    description: 'Immutable, timezone-aware date and time library for JavaScript: parse, validate, manipulate and format dates.',
    snippets: 356,
    trust: 9.1,
    versions: ['v2.8.0', 'v1.12.3'],
  },
  {
    id: '/quiverjs/quiver',
    title: 'Quiver (quiver-cli)',
    file: 'quiver.md',
    keywords: ['quiver', 'quiver-cli', 'cli', 'argv', 'argument', 'parser', 'yargs', 'commander', 'options', 'command'],
    description: 'Typed command-line argument parser and CLI framework: options, subcommands, validation, help and shell completion.',
    snippets: 198,
    trust: 7.9,
    versions: ['v6.0.3', 'v5.4.0'],
  },
];

const docsCache = new Map();
function loadDocs(lib) {
  let d = docsCache.get(lib.id);
  if (!d) {
    d = readFileSync(join(HERE, 'docs', lib.file), 'utf8');
    docsCache.set(lib.id, d);
  }
  return d;
}

function score(lib, query) {
  const q = query.toLowerCase().trim();
  if (!q) return 0;
  let s = 0;
  if (lib.title.toLowerCase().includes(q) || lib.id.includes(q)) s += 10;
  for (const word of q.split(/[^a-z0-9-]+/).filter(Boolean)) {
    for (const k of lib.keywords) {
      if (k === word) s += 5;
      else if (k.includes(word) || word.includes(k)) s += 2;
    }
    if (lib.description.toLowerCase().includes(word)) s += 1;
  }
  return s;
}

function findLibrary(id) {
  const clean = id.trim().replace(/\/+$/, '');
  for (const lib of LIBRARIES) {
    if (clean === lib.id) return { lib, version: null };
    for (const v of lib.versions) if (clean === `${lib.id}/${v}`) return { lib, version: v };
  }
  return null;
}

/** Split Markdown into top-level (##) sections, keeping the preamble as the first one. */
function sections(md) {
  const parts = md.split(/\n(?=## )/);
  return parts;
}

const server = new McpStdioServer({
  name: NAME,
  version: '1.0.0',
  title: 'plugboard demo docs (Context7-style)',
  instructions:
    'Use resolve-library-id to find a Context7-compatible library ID, then get-library-docs to fetch its documentation.',
  pageSize: Number.parseInt(process.env.DEMO_PAGE_SIZE || '0', 10) || 0,
  logPrefix: `[docs:${NAME}]`,
});

server.tool(
  {
    name: 'resolve-library-id',
    title: 'Resolve Context7 Library ID',
    description:
      'Resolves a package/product name to a Context7-compatible library ID and returns a list of matching libraries.\n\n' +
      "You MUST call this function before 'get-library-docs' to obtain a valid Context7-compatible library ID " +
      "UNLESS the user explicitly provides a library ID in the format '/org/project' or '/org/project/version' in their query.\n\n" +
      'Selection Process:\n1. Analyze the query to understand what library/package the user is looking for\n' +
      '2. Return the most relevant match based on:\n- Name similarity to the query (exact matches prioritized)\n' +
      '- Description relevance to the query\n- Documentation coverage (prioritize libraries with higher Code Snippet counts)\n' +
      '- Trust score (consider libraries with scores of 7-10 more authoritative)',
    inputSchema: {
      type: 'object',
      properties: {
        libraryName: { type: 'string', description: 'Library name to search for and retrieve a Context7-compatible library ID.' },
      },
      required: ['libraryName'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  (args) => {
    const ranked = LIBRARIES.map((lib) => ({ lib, s: score(lib, args.libraryName) }))
      .filter((x) => x.s > 0)
      .sort((a, b) => b.s - a.s);
    if (!ranked.length) {
      return textResult(
        `No libraries found matching "${args.libraryName}". Try a different or more general name ` +
          `(bundled libraries: ${LIBRARIES.map((l) => l.title).join(', ')}).`,
      );
    }
    const body = ranked
      .map(
        ({ lib }) =>
          `- Title: ${lib.title}\n- Context7-compatible library ID: ${lib.id}\n- Description: ${lib.description}\n` +
          `- Code Snippets: ${lib.snippets}\n- Trust Score: ${lib.trust}\n- Versions: ${lib.versions.join(', ')}`,
      )
      .join('\n----------\n');
    return textResult(
      'Available Libraries (top matches):\n\n' +
        'Each result includes:\n' +
        '- Library ID: Context7-compatible identifier (format: /org/project)\n' +
        '- Name: Library or package name\n' +
        '- Description: Short summary\n' +
        '- Code Snippets: Number of available code examples\n' +
        '- Trust Score: Authority indicator\n' +
        '- Versions: List of versions if available. Use one of those versions if the user provides a version in their query. ' +
        'The format of the version is /org/project/version.\n\n' +
        'For best results, select libraries based on name match, trust score, snippet coverage, and relevance to your use case.\n\n' +
        '----------\n\n' +
        body,
    );
  },
);

server.tool(
  {
    name: 'get-library-docs',
    title: 'Get Library Docs',
    description:
      "Fetches up-to-date documentation for a library. You must call 'resolve-library-id' first to obtain the exact " +
      "Context7-compatible library ID required to use this tool, UNLESS the user explicitly provides a library ID in the " +
      "format '/org/project' or '/org/project/version' in their query.",
    inputSchema: {
      type: 'object',
      properties: {
        context7CompatibleLibraryID: {
          type: 'string',
          description:
            "Exact Context7-compatible library ID (e.g., '/fetchwave/fetchwave', '/chronoflux/chronoflux/v2.8.0') retrieved from 'resolve-library-id'.",
        },
        topic: { type: 'string', description: "Topic to focus documentation on (e.g., 'retries', 'timezones')." },
        tokens: {
          type: 'number',
          description:
            'Maximum number of tokens of documentation to retrieve (default: 10000). Higher values provide more context but consume more tokens.',
        },
      },
      required: ['context7CompatibleLibraryID'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  (args) => {
    const found = findLibrary(args.context7CompatibleLibraryID);
    if (!found) {
      return textResult(
        `The library you are trying to access does not exist. Please try with a different library ID. ` +
          `Known IDs: ${LIBRARIES.map((l) => l.id).join(', ')}`,
        { isError: true },
      );
    }
    const md = loadDocs(found.lib);
    let tokens = typeof args.tokens === 'number' && args.tokens > 0 ? Math.floor(args.tokens) : 10000;
    if (tokens < 1000) tokens = 1000;
    const budget = tokens * 4; // ~4 characters per token
    let doc = md;
    const topic = typeof args.topic === 'string' ? args.topic.trim().toLowerCase() : '';
    if (topic) {
      // Relevant sections first, then everything else (a real docs index is not precise either).
      const secs = sections(md);
      const words = topic.split(/\s+/).filter(Boolean);
      const rank = (s) => {
        const lower = s.toLowerCase();
        const heading = lower.slice(0, lower.indexOf('\n') + 1 || lower.length);
        let r = 0;
        for (const w of words) {
          if (heading.includes(w)) r += 100;
          r += lower.split(w).length - 1;
        }
        return r;
      };
      const preamble = secs[0];
      const rest = secs.slice(1).map((s, i) => ({ s, i, r: rank(s) }));
      rest.sort((a, b) => b.r - a.r || a.i - b.i); // stable: relevant first, then document order
      doc = [preamble, ...rest.map((x) => x.s)].join('\n');
    }
    let truncated = false;
    if (doc.length > budget) {
      let cut = doc.lastIndexOf('\n\n', budget);
      if (cut < budget / 2) cut = budget;
      doc = doc.slice(0, cut);
      truncated = true;
    }
    const header =
      `================\nCONTEXT7 DOCUMENTATION: ${found.lib.title}${found.version ? ` ${found.version}` : ''}\n` +
      `LIBRARY ID: ${found.lib.id}${topic ? `\nTOPIC: ${args.topic}` : ''}\nTOKENS: ${tokens}\n================\n\n`;
    const footer = truncated ? `\n\n[... documentation truncated to ~${tokens} tokens ...]\n` : '\n';
    return textResult(header + doc + footer);
  },
);

for (const lib of LIBRARIES) {
  server.resource(
    {
      uri: `docs://${lib.id.slice(1)}`,
      name: lib.title,
      description: lib.description,
      mimeType: 'text/markdown',
    },
    (uri) => [{ uri, mimeType: 'text/markdown', text: loadDocs(lib) }],
  );
}

server.start();
