"""Organisations (tenants) and the provider credentials each one configures."""
