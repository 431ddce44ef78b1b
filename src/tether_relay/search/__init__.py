"""Full-text search's pure half: the terms a transcript is indexed under, the query, the highlights."""
