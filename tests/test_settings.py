"""Settings: file < environment < flags, validated at start with messages that name the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli import main
from edge.errors import SettingsError
from edge.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_sources_and_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "edge.toml"
    cfg.write_text('[edge]\norigin = "http://shop.local:8080/"\nport = 9000\n'
                   'origin_timeout = 7\ncors_origins = ["https://a.example"]\n')
    s = load_settings(cfg, env={})
    assert s.origin == "http://shop.local:8080"  # trailing slash dropped
    assert (s.port, s.origin_timeout, s.cors_origins) == (9000, 7.0, ("https://a.example",))
    s = load_settings(cfg, env={"EDGE_PORT": "9100", "REDIS_URL": "redis://r:6379/0",
                                "EDGE_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert s.port == 9100 and s.redis_url == "redis://r:6379/0"
    assert s.cors_origins == ("https://a.example", "https://b.example")
    s = load_settings(cfg, env={"EDGE_PORT": "9100"}, port=9200)
    assert s.port == 9200
    assert s.origin_parts == ("http", "shop.local", 8080)


@pytest.mark.parametrize(("values", "named"), [
    ({"origin": "ftp://shop"}, "origin"),
    ({"origin": "not a url"}, "origin"),
    ({"port": 70000}, "port"),
    ({"host_policy": "sometimes"}, "host_policy"),
    ({"origin_timeout": -1}, "origin_timeout"),
    ({"redis_url": "http://redis"}, "redis_url"),
    ({"cookie_samesite": "whatever"}, "cookie_samesite"),
    ({"no_such_setting": 1}, "no_such_setting"),
])
def test_bad_values_fail_with_a_message_naming_them(values: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, env={}, **values)
    assert named in str(info.value)


def test_bad_config_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[edge\norigin = ")
    with pytest.raises(SettingsError, match="broken.toml"):
        load_settings(broken, env={})
    env_bad = {"EDGE_PORT": "eighty"}
    with pytest.raises(SettingsError, match="port"):
        load_settings(None, env=env_bad)


def test_serve_without_an_origin_exits_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_ORIGIN", raising=False)
    assert main(["serve"]) == 2
    assert "origin: required" in capsys.readouterr().err
    assert main(["serve", "--origin", "gopher://x"]) == 2
    assert "origin:" in capsys.readouterr().err


def test_rules_check_command(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "edge.cli", "rules", "check",
                         str(ROOT / "rules" / "examples" / "demo")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok:")
    (tmp_path / "bad.yaml").write_text("placements:\n  - id: x\n    slot: hero\n    widget: 3\n")
    bad = subprocess.run([sys.executable, "-m", "edge.cli", "rules", "check", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "bad.yaml" in bad.stdout + bad.stderr
