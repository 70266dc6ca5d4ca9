"""HTML pages of news articles: main text, title, date and authors extracted by trafilatura
(made for news pages: it drops navigation, cookie banners, footers and comments), then the
source's boilerplate rules, which know what a generic extractor cannot."""

from __future__ import annotations

from .boilerplate import BoilerplateRules
from .text import normalise_text


def extract_article(html: bytes | str, url: str | None = None) -> dict | None:
    """title, text, published, authors and url of the page's main article; None when it has no text.

    Bytes are decoded by trafilatura from the page's own charset declaration."""
    import trafilatura  # imported here: it takes about a second, and only HTML input needs it

    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                           include_tables=False, include_images=False, deduplicate=True)
    if document is None or not (document.text or "").strip():
        return None
    authors = [name.strip() for name in (document.author or "").split(";") if name.strip()]
    found = {"title": document.title, "text": document.text, "published": document.date, "authors": authors, "url": document.url}
    return {key: value for key, value in found.items() if value}


def article_from_html(html: bytes | str, rules: BoilerplateRules, **given) -> dict | None:
    """The page's article with the source's rules applied; values given (id, title, ...) win over the page's."""
    extracted = extract_article(html, given.get("url"))
    if extracted is None:
        return None
    title = normalise_text(extracted.get("title", ""))
    headline, _, body = normalise_text(extracted["text"]).partition("\n")
    text = rules.apply(body if headline == title else f"{headline}\n{body}")  # the page's <h1> is the title, not body text
    if not text:
        return None
    page = {"title": title, "text": text,
            **{key: extracted[key] for key in ("url", "published", "authors") if key in extracted}}
    return page | {key: value for key, value in given.items() if value is not None}
