"""Publisher boilerplate, removed by rules kept as data in corpus/boilerplate.json, keyed by source,
so that adding a publisher never needs a code change."""

from __future__ import annotations

from dataclasses import dataclass

from ..files import read_checked_json
from ..layout import Layout
from ..problems import InputError, Report


@dataclass(frozen=True)
class BoilerplateRules:
    cut_from_line: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()

    def apply(self, text: str) -> str:
        kept = []
        for line in text.split("\n"):
            if line.strip() in self.cut_from_line:
                break
            if line.strip() not in self.drop_lines:
                kept.append(line)
        return "\n".join(kept).strip()


def load_boilerplate_rules(layout: Layout, source: str) -> BoilerplateRules:
    if not layout.boilerplate_path.exists():
        return BoilerplateRules()
    data, problems = read_checked_json(layout, layout.boilerplate_path, "boilerplate.schema.json", "config-error")
    if problems:
        raise InputError(Report(problems), "the boilerplate rules are invalid")
    rules = data.get(source, {})
    return BoilerplateRules(tuple(rules.get("cut_from_line", ())), tuple(rules.get("drop_lines", ())))
