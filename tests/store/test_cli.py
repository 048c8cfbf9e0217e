from __future__ import annotations

import io
import json
from pathlib import Path

from edge.store.cli import run_import
from edge.store.server import start_redis
from edge.store.store import Store
from tests.store.factories import make_settings


async def test_import_a_file_into_the_embedded_redis(tmp_path: Path) -> None:
    data = tmp_path / "contacts.csv"
    data.write_text("contact_id,email,first_name\nc-1,ann@example.com,Anna\nc-2,nope,Bob\n",
                    encoding="utf-8")
    settings = make_settings(data_dir=str(tmp_path / "var"))
    out = io.StringIO()
    assert await run_import(settings, "contacts", str(data), None, out) == 1  # one refused row
    report = json.loads(out.getvalue())
    assert report["format"] == "csv" and report["imported"] == 1
    assert [row["line"] for row in report["bad_rows"]] == [3]
    # the data is in the data dir's Redis, after the import's own server stopped
    handle = start_redis("", settings.data_dir)
    client = handle.client(timeout=5)
    try:
        pid = (await client.get("edge:contact:c-1")).decode()
        assert (await Store(client).load(pid)).attributes == {"first_name": "Anna"}
    finally:
        await client.aclose()
        handle.close()


async def test_a_missing_file_is_exit_code_2(tmp_path: Path) -> None:
    settings = make_settings(data_dir=str(tmp_path / "var"))
    assert await run_import(settings, "catalog", str(tmp_path / "none.jsonl")) == 2
