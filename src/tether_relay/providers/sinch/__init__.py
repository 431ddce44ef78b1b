"""Sinch Voice (Calling API v1). Sinch hosts no recordings: it writes the audio, and a transcript JSON
file beside it, into our S3 bucket and tells us where by a `notify` callback (providers.md §3)."""
