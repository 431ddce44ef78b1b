"""Which adapter serves each provider's audio. Twilio's server-side fetch registers here too."""

from __future__ import annotations

from tether_relay.calls.errors import UnsupportedProvider
from tether_relay.providers.base import AudioProvider


class ProviderRegistry:
    def __init__(self, audio: dict[str, AudioProvider]) -> None:
        self._audio = audio

    def audio_for(self, provider: str) -> AudioProvider:
        try:
            return self._audio[provider]
        except KeyError:
            raise UnsupportedProvider() from None

    @property
    def providers(self) -> frozenset[str]:
        return frozenset(self._audio)
