"""Where a corpus keeps its files. Every stage takes a Layout instead of guessing paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGED_SCHEMAS = Path(__file__).parent / "schema"
# The schemas a corpus may ship its own copy of (schema_path); the manifest's is always newscorpus's.
CORPUS_SCHEMAS = ("article.schema.json", "labelstudio-export.schema.json", "taxonomy.schema.json",
                  "boilerplate.schema.json", "release.schema.json", "predictions.schema.json")


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "annotations"

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def taxonomy_path(self) -> Path:
        return self.root / "schema" / "taxonomy.json"

    @property
    def boilerplate_path(self) -> Path:
        return self.corpus_dir / "boilerplate.json"

    @property
    def release_settings_path(self) -> Path:
        return self.corpus_dir / "release.json"

    @property
    def pseudonym_key_path(self) -> Path:
        """The key of the annotators' pseudonyms: committed with the corpus, never in a release."""
        return self.annotations_dir / "pseudonym-key.txt"

    def schema_path(self, name: str) -> Path:
        """The corpus's own schema file if it ships one, else the one packaged with newscorpus."""
        own = self.root / "schema" / name
        return own if own.exists() else PACKAGED_SCHEMAS / name

    def own_schemas(self) -> list[Path]:
        """The schema files the corpus ships in place of the packaged ones."""
        return [path for name in CORPUS_SCHEMAS if (path := self.root / "schema" / name).exists()]

    def shards(self) -> list[Path]:
        return sorted(self.corpus_dir.glob("*.jsonl"))

    def exports(self) -> list[Path]:
        """Label Studio exports, oldest first: file names are times, so a later file supersedes an earlier one."""
        found = [p for p in self.annotations_dir.rglob("*.json") if not p.name.startswith(".")]
        return sorted(found, key=lambda p: (p.name, p.relative_to(self.annotations_dir).as_posix()))

    def checked_files(self) -> list[Path]:
        """Every file `validate` reads: a report may be limited to these, and to nothing it did not read."""
        settings = [self.taxonomy_path, self.boilerplate_path, self.release_settings_path]
        return [p for p in settings if p.exists()] + self.own_schemas() + self.shards() + self.exports()

    def contains(self, path: Path) -> bool:
        try:
            (path.parent.resolve() / path.name).relative_to(self.root.resolve())
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def relative(self, path: Path) -> str:
        """The path as the user knows it in the corpus. Only its folder is resolved: the file
        itself may be a link (even a loop), and is named as it was found."""
        try:
            return (path.parent.resolve() / path.name).relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):
            return str(path)
