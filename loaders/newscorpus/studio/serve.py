"""`newscorpus studio serve`: a local Label Studio for annotators, from its own virtual environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..problems import CommandError

STUDIO_VENV = Path(__file__).resolve().parents[3] / ".venv-studio" / "bin" / "label-studio"


def label_studio_command() -> str:
    found = str(STUDIO_VENV) if STUDIO_VENV.exists() else shutil.which("label-studio")
    if not found:
        raise CommandError("Label Studio is not installed: run scripts/install-label-studio (it goes to .venv-studio/)")
    return found


def studio_environment(data_dir: Path) -> dict[str, str]:
    """The server's environment: our data folder, no telemetry; the caller adds the user and token."""
    return {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}


def serve(port: int, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    command = label_studio_command()
    os.execve(command, [command, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)], studio_environment(data_dir))
