"""The served, minified script is built from the committed source and stays small."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[2] / "static" / "js"


def test_minified_script_is_up_to_date_and_within_budget() -> None:
    pytest.importorskip("rjsmin", reason="rjsmin (the build tool) is not installed")
    result = subprocess.run([sys.executable, str(JS / "build.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    served = (JS / "edge.min.js").read_bytes()
    assert len(gzip.compress(served, 9)) <= 12 * 1024
    assert b"__EDGE_CSS__" not in served and b".edge-inbox" in served


def test_node_parses_source_and_bundle() -> None:
    node = Path("/usr/bin/node")
    if not node.exists():
        pytest.skip("node is not installed")
    for name in ("edge.js", "edge.min.js"):
        result = subprocess.run([str(node), "--check", str(JS / name)], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
