"""The walk of a build from the command line to the Parquet files: which modules it passes through,
which calls leave a subpackage for a module above it, and which functions are handed the whole `Layout`.

    python -m benchmarks.walk [CORPUS]      (default: the repository's own corpus, copied)

A stage that needs one file but takes the whole `Layout` can reach anything; fewer such functions and
fewer calls out of a subpackage mean a newcomer follows the build with fewer jumps. The build runs in
this process (`--num-proc 1`), so the profile sees every call.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from newscorpus.cli import app

REPOSITORY = Path(__file__).resolve().parent.parent


def package_of(module: str) -> str:
    return module.rsplit(".", 1)[0] if module.count(".") >= 2 else "newscorpus"


def main() -> None:
    arrows: set[tuple[str, str]] = set()
    given_layout: set[tuple[str, str]] = set()

    def record(frame, event, arg) -> None:
        module = frame.f_globals.get("__name__", "")
        if event != "call" or not module.startswith("newscorpus"):
            return
        code = frame.f_code
        if "layout" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            given_layout.add((module, code.co_name))
        caller = frame.f_back
        while caller is not None and not caller.f_globals.get("__name__", "").startswith("newscorpus"):
            caller = caller.f_back
        if caller is not None and caller.f_globals["__name__"] != module:
            arrows.add((caller.f_globals["__name__"], module))

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else REPOSITORY
        root = Path(tmp) / "corpus"
        for folder in ("schema", "corpus", "annotations"):
            shutil.copytree(corpus / folder, root / folder)
        sys.setprofile(record)
        try:
            app(["build", "--version", "0.0.1", "--root", str(root), "--num-proc", "1", "--quiet"], standalone_mode=False)
        finally:
            sys.setprofile(None)
    out_of_subpackage = sorted((a, b) for a, b in arrows if package_of(a) != "newscorpus" and package_of(a) != package_of(b))
    print(f"modules on the walk: {len({m for arrow in arrows for m in arrow})}")
    print(f"arrows between modules: {len(arrows)}")
    print(f"arrows out of a subpackage: {len(out_of_subpackage)}")
    for a, b in out_of_subpackage:
        print(f"  {a} -> {b}")
    print(f"functions handed the whole Layout: {len(given_layout)}")
    for module, function in sorted(given_layout):
        print(f"  {module}.{function}")


if __name__ == "__main__":
    main()
