"""Ingest: outside material turned into article records, with each source's boilerplate removed."""
