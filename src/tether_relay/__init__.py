"""Tether Relay: one API for every call's recording and transcript."""
