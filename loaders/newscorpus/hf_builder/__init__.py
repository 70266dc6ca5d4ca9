"""Build: the release's tables (tables.py, ner.py over tokens.py) and the `datasets` builder that writes them (builder.py)."""
