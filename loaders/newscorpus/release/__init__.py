"""Releases: build one (`build`), check one against a rebuild (`verify`), compare two (`diff`).

A release folder's `manifest.json` (`manifest`) ties them together; the card (`card`) and the
Croissant file (`croissant`) are written from the files a build has just produced.
"""
