"""The benchmark's server: `tether-relay serve`'s own `run_server` (uvicorn settings, our HTTP protocol,
logging at TETHER_LOG_LEVEL, info by default, the frozen startup objects), serving the product app plus
bench/app.py's reference routes; or, with `--bare`, a FastAPI app holding only the no-work route, without
our middleware, on the same server settings (what the middleware costs is the difference).

`python -m bench.serve [--bare]`, with the service's TETHER_* settings in the environment."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from bench.app import add_ceiling, create_bench_app
from tether_relay.cli import load_settings, run_server


def bare_app() -> FastAPI:
    app = FastAPI()
    add_ceiling(app)
    return app


def main() -> None:
    settings = load_settings()
    run_server(settings, bare_app() if "--bare" in sys.argv[1:] else create_bench_app(settings))


if __name__ == "__main__":
    main()
