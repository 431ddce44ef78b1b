"""Which adapter serves each provider."""

from __future__ import annotations

from tether_relay.errors import UnsupportedProvider
from tether_relay.providers.base import Provider


class ProviderRegistry:
    def __init__(self, *providers: Provider) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnsupportedProvider() from None
