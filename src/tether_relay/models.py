"""Imports every model so that Base.metadata knows every table (for Alembic and the tests)."""

from tether_relay.calls.models import Call, Recording
from tether_relay.organizations.models import Organization, ProviderCredential

__all__ = ["Call", "Organization", "ProviderCredential", "Recording"]
