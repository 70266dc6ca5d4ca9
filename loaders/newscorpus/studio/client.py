"""A Label Studio server reached with the environment's URL and token.

The server and token come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY only. The token is never
written anywhere: every error message is built here from the URL and the HTTP status, and any
text that came back from the server is scrubbed of it first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .. import progress
from ..problems import CommandError

T = TypeVar("T")
RETRIES = 3
# Label Studio counts the project's annotations and predictions again for every page of tasks,
# so pages of 100 make listing a large project quadratic; asking only for id and data skips the
# per-task fields (annotators, agreement, ...) that made a no-change push slower than the first.
TASK_PAGE = 2000


class Studio:
    """A Label Studio server reached with the environment's URL and token."""

    def __init__(self, url: str | None = None, token: str | None = None):
        self.url = (url or os.environ.get("LABEL_STUDIO_URL") or "").rstrip("/")
        self._token = token or os.environ.get("LABEL_STUDIO_API_KEY") or ""
        if not self.url or not self._token:
            raise CommandError("set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY in the environment")
        self.client = LabelStudio(base_url=self.url, api_key=self._token, timeout=120)

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def call(self, what: str, action: Callable[[], T], retry: bool = False) -> T:
        """Run one API call; failures become a CommandError naming the URL and status. Reads retry."""
        for attempt in range(RETRIES if retry else 1):
            try:
                return action()
            except ApiError as err:
                status = err.status_code
                if retry and status is not None and status >= 500 and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                body = self.scrub(str(err.body))[:300]
                raise CommandError(f"{what}: {self.url} answered HTTP {status}: {body}") from None
            except (httpx.TransportError, OSError) as err:
                if retry and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                raise CommandError(f"{what}: cannot reach {self.url} ({type(err).__name__}: {self.scrub(str(err))[:200]})") from None
        raise AssertionError("unreachable")

    def find_project(self, title: str):
        projects = self.call("listing projects", lambda: list(self.client.projects.list(title=title)), retry=True)
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

        def listing():
            found = set()
            for task in self.client.tasks.list(project=project_id, page_size=TASK_PAGE, include="id,data"):
                progress.advance()
                if task.data:
                    found.add(key(task.data))
            return found

        return self.call("listing tasks", listing, retry=True)

    def export_to(self, project_id: int, path: Path) -> None:
        """The project's JSON export streamed into `path` (the whole export is never in memory)."""

        def download():
            with path.open("wb") as handle:
                for chunk in self.client.projects.exports.download_sync(id=project_id, export_type="JSON", download_all_tasks=True):
                    handle.write(chunk)
                    progress.advance(len(chunk))
                handle.flush()
                os.fsync(handle.fileno())

        self.call("exporting the project", download, retry=True)
