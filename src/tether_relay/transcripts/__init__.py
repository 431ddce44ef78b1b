"""The canonical transcript shape, `[{role, message, timestamp}]`, and pure steps that build it.
Imports nothing of ours but itself: providers normalise into it, the API renders it."""
