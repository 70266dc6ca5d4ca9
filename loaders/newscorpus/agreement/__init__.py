"""Agreement: how far annotators agree, per pair, per label and per kind of disagreement.

`reading` gives the articles with their annotations (a release's, or the working tree's as `build`
resolves them), `measures` computes every measure, `render` writes text, JSON or an HTML page,
`figures` draws the card's pictures; `report` ties them together for the command and the card.
"""
