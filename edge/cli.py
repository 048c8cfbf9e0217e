"""The ``edge`` command: serve, demo, rules check, import."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from edge.errors import EdgeError, SettingsError
from edge.settings import Settings, load_settings

log = logging.getLogger("edge")

# uvicorn settings the edge always uses: the fastest loop and parser, and no headers of its own
# (the origin's Date and Server pass through unchanged).
UVICORN_DEFAULTS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "server_header": False,
    "date_header": False,
    "timeout_keep_alive": 30,
    # The edge is the front door: X-Forwarded-* from clients are not trusted to set the client IP.
    "proxy_headers": False,
    "log_level": "warning",
}


def _settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        "origin": args.origin,
        "host": args.host,
        "port": args.port,
        "redis_url": args.redis_url,
        "rules_dir": getattr(args, "rules_dir", None),
        "data_dir": getattr(args, "data_dir", None),
        "workers": getattr(args, "workers", None),
    }
    return load_settings(args.config, **overrides)


def app_from_environment() -> Any:
    """uvicorn factory for worker processes: settings come as JSON from the parent."""
    from edge.app import create_app

    settings = Settings(**json.loads(os.environ["EDGE_SETTINGS_JSON"]))
    return create_app(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from edge.app import create_app

    settings = _settings_from_args(args)
    settings.require_origin()
    handle = None
    if settings.workers > 1 and not settings.redis_url:
        # Workers share one embedded Redis, started here in the parent.
        from edge.store.server import start_redis

        handle = start_redis("", settings.data_dir)
        settings = settings.model_copy(update={"redis_url": handle.url})
    print(f"the edge: http://{settings.host}:{settings.port}  →  {settings.origin}", flush=True)
    try:
        if settings.workers > 1:
            os.environ["EDGE_SETTINGS_JSON"] = settings.model_dump_json()
            uvicorn.run("edge.cli:app_from_environment", factory=True, host=settings.host,
                        port=settings.port, workers=settings.workers, **UVICORN_DEFAULTS)
        else:
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                        **UVICORN_DEFAULTS)
    finally:
        if handle is not None:
            handle.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from edge.demo_runner import run_demo

    return asyncio.run(run_demo(port=args.port, shop_port=args.shop_port, data_dir=args.data_dir,
                                host=args.host, open_browser=False))


def cmd_rules_check(args: argparse.Namespace) -> int:
    from rules.cli import check

    return check(args.dir)


def cmd_import(args: argparse.Namespace) -> int:
    from edge.store.cli import run_import

    settings = load_settings(args.config, redis_url=args.redis_url, data_dir=args.data_dir)
    return asyncio.run(run_import(settings, args.kind, args.file, args.format))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge", description="The edge: a personalization proxy.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the edge in front of a shop")
    serve.add_argument("--origin", help="the shop's URL, e.g. http://127.0.0.1:8080")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--config", help="a TOML settings file (an [edge] table)")
    serve.add_argument("--redis-url", help="an external Redis; default: embedded")
    serve.add_argument("--rules-dir")
    serve.add_argument("--data-dir")
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run a demo shop behind the edge")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--shop-port", type=int, default=8001)
    demo.add_argument("--data-dir", default="var/demo")
    demo.set_defaults(func=cmd_demo)

    rules = sub.add_parser("rules", help="rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a rules directory without serving")
    check.add_argument("dir")
    check.set_defaults(func=cmd_rules_check)

    imp = sub.add_parser("import", help="import contacts or the product catalog")
    imp.add_argument("kind", choices=["contacts", "catalog"])
    imp.add_argument("file", help="a JSONL or CSV file, or - for standard input")
    imp.add_argument("--format", choices=["jsonl", "csv"])
    imp.add_argument("--config")
    imp.add_argument("--redis-url")
    imp.add_argument("--data-dir")
    imp.set_defaults(func=cmd_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("EDGE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 2
    except EdgeError as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
