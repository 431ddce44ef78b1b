"""FastAPI runs a plain `def` endpoint or dependency in a worker thread; on the hot read those hand-offs
cost more than the work (docs/performance.md). Every endpoint and dependency of the app is async."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tether_relay.app import create_app
from tether_relay.settings import Settings


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.16x)
            yield from _routes(route.original_router.routes)


def _is_async(call: Any) -> bool:
    target = call if inspect.isroutine(call) else type(call).__call__  # e.g. HTTPBearer instances
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_no_endpoint_or_dependency_runs_in_a_worker_thread(tmp_path: Any) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db", data_dir=tmp_path))
    routes = list(_routes(app.routes))
    assert routes
    sync = {
        f"{route.path}: {getattr(call, '__qualname__', type(call).__name__)}"
        for route in routes
        for call in _calls(route.dependant)
        if not _is_async(call)
    }
    assert sync == set()
