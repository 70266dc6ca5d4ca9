"""Label Studio exports, read into plain annotation records with every check that needs the task text.

`records` holds what every stage shares; `reading` turns one task into records, `checks` decodes and
checks an export's tasks, `supersession` decides which tasks of which export are current, and `carry`
moves the labels of a corrected article onto its new text.
"""
