"""A release in the formats of other stacks: a spaCy DocBin, CoNLL-2003 columns, brat standoff.

Every format is written from the release folder alone (its Parquet files, checked against its
manifest), never from the working tree, so an export says what the release says. Whatever a
format cannot hold is counted and reported by the export, never dropped in silence.
"""
