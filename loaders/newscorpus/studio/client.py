"""A Label Studio server reached with the environment's URL and token.

The server and token come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY only. The token is never
written anywhere: every error message is built here from the URL and the HTTP status, and any
text that came back from the server is scrubbed of it, in every form it can take, first. Every
answer that is not what Label Studio sends (another shape, HTML, a listing that never ends) is a
CommandError naming the URL, not a crash.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.core.parse_error import ParsingError

from .. import progress
from ..files import writing
from ..problems import CommandError
from ..redact import redact

T = TypeVar("T")
RETRIES = 3
# Label Studio counts the project's annotations and predictions again for every page of tasks,
# so pages of 100 make listing a large project quadratic; asking only for id and data skips the
# per-task fields (annotators, agreement, ...) that made a no-change push slower than the first.
TASK_PAGE = 2000
# A listing stops at an empty page; a server that ignores ?page= would send page 1 for ever.
MAX_PAGES = 10_000
LISTING_SECONDS = 1800
HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
# What the SDK raises when an answer parses as JSON but not as the model it expects.
WRONG_SHAPE = (ParsingError, ValueError, TypeError, AttributeError, KeyError)


def checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise CommandError(f"LABEL_STUDIO_URL {url!r} is not an http:// or https:// URL of a server")
    return url


class Studio:
    """A Label Studio server reached with the environment's URL and token."""

    def __init__(self, url: str | None = None, token: str | None = None):
        self._token = token or os.environ.get("LABEL_STUDIO_API_KEY") or ""
        self.url = self.scrub((url or os.environ.get("LABEL_STUDIO_URL") or "").rstrip("/"))
        if not self.url or not self._token:
            raise CommandError("set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY in the environment")
        if not HEADER_SAFE.fullmatch(self._token):
            raise CommandError("LABEL_STUDIO_API_KEY holds a character an HTTP header cannot carry (a space, a control character such as "
                               "the \\r of a Windows .env file, or a non-ASCII character); nothing was sent")
        checked_url(self.url)
        self.client = self.call("reading the token", lambda: LabelStudio(base_url=self.url, api_key=self._token, timeout=120))

    def scrub(self, text: str) -> str:
        return redact(text, self._token)

    def call(self, what: str, action: Callable[[], T], retry: bool = False, none_if_404: bool = False) -> T | None:
        """Run one API call; failures become a CommandError naming the URL and status. Reads retry."""
        for attempt in range(RETRIES if retry else 1):
            try:
                return action()
            except ApiError as err:
                status = err.status_code
                if none_if_404 and status == 404:
                    return None
                if retry and status is not None and status >= 500 and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                body = self.scrub(str(err.body))[:300]
                if status is not None and 200 <= status < 300:  # the SDK could not read a successful answer
                    raise CommandError(f"{what}: {self.url} answered HTTP {status} with something Label Studio does not send: {body}") from None
                raise CommandError(f"{what}: {self.url} answered HTTP {status}: {body}") from None
            except (httpx.TransportError, OSError) as err:
                if retry and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                raise CommandError(f"{what}: cannot reach {self.url} ({type(err).__name__}: {self.scrub(str(err))[:200]})") from None
            except WRONG_SHAPE as err:
                raise CommandError(f"{what}: {self.url} answered something Label Studio does not send ({type(err).__name__}: {self.scrub(str(err))[:200]})") from None
        raise AssertionError("unreachable")

    def listing(self, what: str, first_page: Callable, required: dict[str, type]) -> Iterator:
        """Every item of a paged listing, each checked for the fields we read. A page that repeats
        items already seen (a server that ignores ?page=), more than MAX_PAGES pages or more
        than LISTING_SECONDS are refused: the listing would never end."""
        deadline = time.monotonic() + LISTING_SECONDS
        seen = set()
        page = self.call(what, first_page, retry=True)
        for number in range(1, MAX_PAGES + 1):
            batch = page.items if page is not None else None
            if not batch:
                return
            if not isinstance(batch, list):
                raise CommandError(f"{what}: {self.url} answered page {number} without a list of results")
            for item in batch:
                wrong = [name for name, kind in required.items() if not isinstance(getattr(item, name, None), kind)]
                if wrong:
                    raise CommandError(f"{what}: {self.url} answered an item without {', '.join(wrong)} of the right type on page {number}")
            ids = {item.id for item in batch}
            if ids <= seen:
                raise CommandError(f"{what}: {self.url} answered page {number} with the items of an earlier page; it ignores ?page=, so the listing would never end")
            seen |= ids
            yield from batch
            if not page.has_next or page.get_next is None:
                return
            if time.monotonic() > deadline:
                raise CommandError(f"{what}: {self.url} was still listing after {LISTING_SECONDS} s ({number} pages); stopped")
            page = self.call(what, page.get_next, retry=True, none_if_404=True)  # Label Studio's answer past the last page
        raise CommandError(f"{what}: {self.url} sent more than {MAX_PAGES} pages; stopped")

    def find_project(self, title: str):
        projects = list(self.listing("listing projects", lambda: self.client.projects.list(title=title), {"id": int, "title": str}))
        exact = [p for p in projects if p.title == title]
        return min(exact, key=lambda p: p.id) if exact else None

    def ensure_project(self, title: str, label_config: str):
        project = self.find_project(title)
        if project is None:
            return self.call("creating the project", lambda: self.client.projects.create(title=title, label_config=label_config))
        if (project.label_config or "").strip() != label_config.strip():
            self.call("updating the labeling config", lambda: self.client.projects.update(id=project.id, label_config=label_config))
        return project

    def task_keys(self, project_id: int, key: Callable[[dict], T]) -> set[T]:
        """`key` of every task's data; only id and data are asked for."""

        found = set()
        first_page = lambda: self.client.tasks.list(project=project_id, page_size=TASK_PAGE, include="id,data")
        for task in self.listing("listing tasks", first_page, {"id": int, "data": dict}):
            progress.advance()
            if task.data:
                found.add(key(task.data))
        return found

    def export_to(self, project_id: int, path: Path) -> None:
        """The project's JSON export streamed into `path` (the whole export is never in memory)."""

        def download():  # an OSError here is the file's (the network's are httpx's): not retried as a server's
            with writing(path.parent, "the export"), path.open("wb") as handle:
                for chunk in self.client.projects.exports.download_sync(id=project_id, export_type="JSON", download_all_tasks=True):
                    handle.write(chunk)
                    progress.advance(len(chunk))
                handle.flush()
                os.fsync(handle.fileno())

        self.call("exporting the project", download, retry=True)
