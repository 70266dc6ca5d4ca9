"""`newscorpus init`: a new corpus folder that validates and builds as it is.

It holds the taxonomy (the default one, a given one once it validates, or one derived from a Label
Studio labeling config), copies of the schemas the corpus is checked against, the settings files
filled with their defaults, an empty annotations/, a CI workflow and a pre-commit config.
Nothing that exists is overwritten, and nothing is written unless everything can be: every file is
written in full before any is renamed into place, and an init that fails removes the folders it made.
"""

from __future__ import annotations

import importlib.metadata
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from string import Template

import orjson

from .files import write_all_atomically, writing
from .layout import PACKAGED_SCHEMAS, Layout
from .problems import CommandError, InputError, Problem, Report
from .settings import release_defaults
from .taxonomy import check_taxonomy, taxonomy_from_label_config

TEMPLATES = Path(__file__).parent / "templates"


def json_bytes(data) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def taxonomy_bytes(layout: Layout, taxonomy_file: Path | None, label_config: Path | None) -> bytes:
    """The taxonomy to write, checked exactly as `validate` will check it."""
    if label_config is not None:
        try:
            xml = label_config.read_text(encoding="utf-8")
            derived = taxonomy_from_label_config(xml)
        except (OSError, UnicodeDecodeError) as err:
            raise CommandError(f"{label_config}: cannot read the labeling config: {err}") from None
        except Exception as err:  # LabelInterface raises many kinds on a config Label Studio refuses
            raise CommandError(f"{label_config}: not a labeling config newscorpus can use: {err}") from None
        data = json_bytes(derived)
    elif taxonomy_file is not None:
        try:
            data = taxonomy_file.read_bytes()
        except OSError as err:
            raise CommandError(f"{taxonomy_file}: {err.strerror or err}") from None
    else:
        data = (PACKAGED_SCHEMAS / "taxonomy.json").read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "taxonomy.json"
        staged.write_bytes(data)
        _, problems = check_taxonomy(layout, staged)
    if problems:
        source = label_config or taxonomy_file or "taxonomy"
        raise InputError(Report([Problem(p.code, str(source), p.message, pointer=p.pointer) for p in problems]), "the taxonomy is invalid; nothing was written")
    return data


def init_corpus(root: Path, taxonomy_file: Path | None = None, label_config: Path | None = None) -> list[Path]:
    """Lay out a corpus in `root` (which may exist, e.g. a fresh git clone); returns the files written."""
    layout = Layout(root)
    version = importlib.metadata.version("newscorpus")
    files: dict[Path, bytes] = {
        layout.taxonomy_path: taxonomy_bytes(layout, taxonomy_file, label_config),
        **{root / "schema" / p.name: p.read_bytes() for p in sorted(PACKAGED_SCHEMAS.glob("*.schema.json"))},
        layout.release_settings_path: json_bytes(release_defaults()),
        layout.boilerplate_path: b"{}\n",
        layout.annotations_dir / ".gitkeep": b"",
        root / ".github" / "workflows" / "newscorpus.yml": Template((TEMPLATES / "workflow.yml").read_text()).safe_substitute(VERSION=version).encode(),
        root / ".pre-commit-config.yaml": (TEMPLATES / "pre-commit-config.yaml").read_bytes(),
    }
    existing = [layout.relative(path) for path in files if path.exists()]
    if existing:
        raise CommandError(f"{root} already holds {', '.join(existing)}; init never overwrites a corpus")
    readme = root / "README.md"
    if not readme.exists():
        files[readme] = Template((TEMPLATES / "README.md").read_text()).safe_substitute(NAME=root.resolve().name).encode()
    made = missing_folders(root, files)
    with writing(root, "the new corpus"):
        try:
            write_all_atomically(files)
        except OSError:
            for folder in made:  # emptied by write_all_atomically; removed deepest first, and only while empty
                for inner, _, _ in os.walk(folder, topdown=False):
                    with suppress(OSError):
                        os.rmdir(inner)
            raise
    return list(files)


def missing_folders(root: Path, files: dict[Path, bytes]) -> list[Path]:
    """The outermost folders that `files` need and that do not exist yet, so that a failed init can
    remove what it made."""
    missing = {folder for path in files for folder in path.parents if not folder.exists()}
    return sorted(folder for folder in missing if folder.parent not in missing)
