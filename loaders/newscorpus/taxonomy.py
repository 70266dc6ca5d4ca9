"""The label set, read from schema/taxonomy.json: the one source of every label in newscorpus."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import Layout
from .problems import InputError, Problem, Report
from .files import read_checked_json


@dataclass(frozen=True)
class Label:
    name: str
    description: str = ""
    code: str = ""
    directed: bool = False  # relations only: head and tail differ in meaning


@dataclass(frozen=True)
class Taxonomy:
    entity_control: str
    entity_object: str
    title_control: str | None
    title_object: str | None
    entity_labels: tuple[Label, ...]
    topic_control: str
    topic_object: str
    topic_labels: tuple[Label, ...]
    relation_labels: tuple[Label, ...] = ()

    @property
    def entity_names(self) -> list[str]:
        return [label.name for label in self.entity_labels]

    @property
    def topic_names(self) -> list[str]:
        return [label.name for label in self.topic_labels]

    @property
    def relation_names(self) -> list[str]:
        return [label.name for label in self.relation_labels]

    @property
    def bio_names(self) -> list[str]:
        return ["O"] + [f"{prefix}-{name}" for name in self.entity_names for prefix in ("B", "I")]

    @classmethod
    def from_dict(cls, data: dict) -> "Taxonomy":
        def labels(section):
            return tuple(Label(x["name"], x.get("description", ""), x.get("code", ""), x.get("directed", False)) for x in section["labels"])

        ents, tops = data["entities"], data["topics"]
        return cls(
            entity_control=ents["control"],
            entity_object=ents["object"],
            title_control=ents.get("title_control"),
            title_object=ents.get("title_object"),
            entity_labels=labels(ents),
            topic_control=tops["control"],
            topic_object=tops["object"],
            topic_labels=labels(tops),
            relation_labels=labels(data["relations"]) if "relations" in data else (),
        )


def check_taxonomy(layout: Layout) -> tuple[Taxonomy | None, list[Problem]]:
    data, problems = read_checked_json(layout, layout.taxonomy_path, "taxonomy.schema.json", "taxonomy-error")
    if problems:
        return None, problems
    file = layout.relative(layout.taxonomy_path)
    for section in ("entities", "topics", "relations"):
        if section not in data:
            continue
        seen = set()
        for i, label in enumerate(data[section]["labels"]):
            if label["name"] in seen:
                problems.append(Problem("duplicate-label", file, f"label {label['name']!r} is listed twice", pointer=f"/{section}/labels/{i}/name"))
            seen.add(label["name"])
    problems += shared_names(data, file)
    if problems:
        return None, problems
    return Taxonomy.from_dict(data), []


def shared_names(data: dict, file: str) -> list[Problem]:
    """Every control and object becomes a tag of the labeling config, where names must be unique;
    the topics choose on one of the entity objects (the text, or the title)."""
    entities, topics = data["entities"], data["topics"]
    tags = [(f"/entities/{key}", entities[key]) for key in ("control", "object", "title_control", "title_object") if key in entities]
    tags.append(("/topics/control", topics["control"]))
    first: dict[str, str] = {}
    problems = []
    for pointer, name in tags:
        if name in first:
            problems.append(Problem("duplicate-name", file, f"the name {name!r} is already used at {first[name]}; each control and object needs its own", pointer=pointer))
        first.setdefault(name, pointer)
    objects = [entities["object"]] + ([entities["title_object"]] if "title_object" in entities else [])
    if topics["object"] not in objects:
        problems.append(Problem("duplicate-name", file, f"the topics choose on {topics['object']!r}, which is not an entity object ({', '.join(map(repr, objects))})", pointer="/topics/object"))
    return problems


def load_taxonomy(layout: Layout) -> Taxonomy:
    taxonomy, problems = check_taxonomy(layout)
    if taxonomy is None:
        raise InputError(Report(problems), "the taxonomy is invalid")
    return taxonomy
