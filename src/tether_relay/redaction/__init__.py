"""Redaction: finding what must not be heard or read (detect.py), where it is in the audio (spans.py),
the transcript without it (text.py) and the audio without it (audio.py). Pure: no database, no HTTP."""
