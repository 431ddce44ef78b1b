"""`create_app(settings)`, the service's ASGI application; built in `api/app.py`, as only `api/` imports
FastAPI."""

from tether_relay.api.app import create_app

__all__ = ["create_app"]
