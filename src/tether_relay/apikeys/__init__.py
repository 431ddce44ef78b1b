"""User API keys (`tk_live_…`): the credential of POST /api/calls/ingest. Stored only as a hash."""
