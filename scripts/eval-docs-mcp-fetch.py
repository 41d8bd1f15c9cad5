#!/usr/bin/env python3
"""Converts HTML pages to Markdown with mcp-server-fetch's own function, for curate's evaluation.

Usage: eval-docs-mcp-fetch.py MODE OUT_DIR PAGE.html...
       (with no page, only checks that MODE can run: exit status 0 or 3)

MODE is "pure-python" or "readability". mcp-server-fetch's extract_content_from_html()
always asks readabilipy for Readability.js (use_readability=True); readabilipy falls back to
its pure-Python extractor when have_node() is false, that is when Node.js or the
@mozilla/readability and jsdom packages (installed by npm next to readabilipy's
ExtractArticle.js) are missing. "pure-python" makes have_node() false, which is exactly what
a machine without Node sees; "readability" requires the Node path to be usable and exits
with status 3 when it is not (nothing is faked). Run with the virtualenv that has
mcp-server-fetch installed (scripts/fetch-eval-docs makes .venv-eval).

Each PAGE.html becomes OUT_DIR/PAGE.md: what the fetch tool returns as the page's content,
without the "Contents of URL:" line it puts in front.
"""
import os
import sys

import readabilipy.simple_json as simple_json
from mcp_server_fetch.server import extract_content_from_html


def main(argv):
    if len(argv) < 2 or argv[0] not in ("pure-python", "readability"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, out_dir, pages = argv[0], argv[1], argv[2:]
    if mode == "pure-python":
        simple_json.have_node = lambda: False
    else:
        jsdir = os.path.join(os.path.dirname(simple_json.__file__), "javascript")
        if not os.path.isdir(os.path.join(jsdir, "node_modules", "@mozilla", "readability")):
            print(
                f"readability mode unavailable: {jsdir} has no node_modules/@mozilla/readability "
                "(the wheel ships only ExtractArticle.js and package.json; readabilipy installs "
                "@mozilla/readability, jsdom and minimist with npm)",
                file=sys.stderr,
            )
            return 3
    os.makedirs(out_dir, exist_ok=True)
    for page in pages:
        with open(page, encoding="utf-8") as f:
            html = f.read()
        md = extract_content_from_html(html)
        name = os.path.splitext(os.path.basename(page))[0] + ".md"
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
