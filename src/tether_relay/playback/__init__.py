"""The playback proxy: one stable, seekable audio URL for every provider's recordings."""
