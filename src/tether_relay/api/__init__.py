"""The HTTP layer, and the only package that imports FastAPI: parse, authorise, delegate, render."""
