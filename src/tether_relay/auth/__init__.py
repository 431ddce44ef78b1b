"""Who is calling: bearer JWT verification into a Principal."""
