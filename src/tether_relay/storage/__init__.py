"""Object storage: where recordings live and how their short-lived URLs are signed."""
