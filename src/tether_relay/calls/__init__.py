"""The calls domain: Call and Recording models, the repository that scopes every query to an
organisation, and the service behind GET /api/calls/{callId}/recording."""
