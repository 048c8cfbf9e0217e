"""Build the served widget script: edge.js with edge.css inlined, minified with rjsmin.

    .venv/bin/python static/js/build.py          # writes static/js/edge.min.js, prints sizes
    .venv/bin/python static/js/build.py --check  # exit 1 if edge.min.js is stale

``edge.js`` (readable) and ``edge.min.js`` (served) are both committed; the edge serves the
minified file (``edge.api.embed``) and falls back to the bundled source when it is missing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "edge.js"
STYLES = HERE / "edge.css"
OUTPUT = HERE / "edge.min.js"
PLACEHOLDER = "'__EDGE_CSS__'"


def minify_css(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};:,>])\s*", r"\1", css)
    return css.replace(";}", "}").strip()


def bundle(source: str, css: str) -> str:
    """The script with the stylesheet inlined as a JS string literal."""
    if PLACEHOLDER not in source:
        raise SystemExit(f"{SOURCE.name}: the {PLACEHOLDER} placeholder is missing")
    # json.dumps gives a valid JS string; "</" is escaped so the script can be inlined too.
    literal = json.dumps(minify_css(css)).replace("</", "<\\/")
    return source.replace(PLACEHOLDER, literal, 1)


def build() -> str:
    import rjsmin  # a build-time tool only; the edge serves the committed output

    code = rjsmin.jsmin(bundle(SOURCE.read_text("utf-8"), STYLES.read_text("utf-8")),
                        keep_bang_comments=False)
    return "/*! edge.js | the edge widget script */" + code.strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if edge.min.js is stale")
    args = parser.parse_args(argv)
    code = build()
    if args.check:
        current = OUTPUT.read_text("utf-8") if OUTPUT.exists() else ""
        if current != code:
            print(f"{OUTPUT.name} is stale: run static/js/build.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(code, "utf-8")
    raw = len(code.encode())
    gz = len(gzip.compress(code.encode(), 9))
    print(f"{OUTPUT.name}: {raw} bytes, {gz} bytes gzipped "
          f"(source {len(SOURCE.read_bytes())} + css {len(STYLES.read_bytes())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
