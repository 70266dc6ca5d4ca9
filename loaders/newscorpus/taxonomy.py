"""The label set, read from schema/taxonomy.json: the one source of every label in newscorpus."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
class Links:
    """Entity links: a per-region TextArea (`control`) where annotators give each text span its id in `kb`."""

    control: str
    kb: str
    pattern: str

    def accepts(self, link: str) -> bool:
        """The whole link matches: a `$` before a final newline is no match (as jsonschema-rs reads `$`)."""
        return re.fullmatch(self.pattern, link) is not None


@dataclass(frozen=True)
class Taxonomy:
    entity_control: str
    entity_object: str
    title_control: str | None
    title_object: str | None
    entity_labels: tuple[Label, ...]
    topic_control: str | None  # None: the corpus has no topics
    topic_object: str | None
    topic_labels: tuple[Label, ...]
    relation_labels: tuple[Label, ...] = ()
    links: Links | None = None  # None: spans are not linked, and a release has no kb_id

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

        ents, tops = data["entities"], data.get("topics", {"control": None, "object": None, "labels": []})
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
            links=Links(data["links"]["control"], data["links"]["kb"], data["links"]["pattern"]) if "links" in data else None,
        )


def check_taxonomy(layout: Layout, path: Path | None = None) -> tuple[Taxonomy | None, list[Problem]]:
    """The corpus's taxonomy, or another taxonomy file (`path`) checked as if it were the corpus's."""
    path = path or layout.taxonomy_path
    data, problems = read_checked_json(layout, path, "taxonomy.schema.json", "taxonomy-error")
    if problems:
        return None, problems
    file = layout.relative(path)
    for section in ("entities", "topics", "relations"):
        if section not in data:
            continue
        seen = set()
        for i, label in enumerate(data[section]["labels"]):
            if label["name"] in seen:
                problems.append(Problem("duplicate-label", file, f"label {label['name']!r} is listed twice", pointer=f"/{section}/labels/{i}/name"))
            seen.add(label["name"])
    problems += shared_names(data, file)
    if "links" in data:
        try:
            re.compile(data["links"]["pattern"])
        except re.error as err:
            problems.append(Problem("taxonomy-error", file, f"the links pattern is not a regular expression: {err}", pointer="/links/pattern"))
    if problems:
        return None, problems
    return Taxonomy.from_dict(data), []


def shared_names(data: dict, file: str) -> list[Problem]:
    """Every control and object becomes a tag of the labeling config, where names must be unique;
    the topics choose on one of the entity objects (the text, or the title)."""
    entities, topics = data["entities"], data.get("topics")  # a taxonomy may have no topics
    tags = [(f"/entities/{key}", entities[key]) for key in ("control", "object", "title_control", "title_object") if key in entities]
    if topics is not None:
        tags.append(("/topics/control", topics["control"]))
    if "links" in data:
        tags.append(("/links/control", data["links"]["control"]))
    first: dict[str, str] = {}
    problems = []
    for pointer, name in tags:
        if name in first:
            problems.append(Problem("duplicate-name", file, f"the name {name!r} is already used at {first[name]}; each control and object needs its own", pointer=pointer))
        first.setdefault(name, pointer)
    objects = [entities["object"]] + ([entities["title_object"]] if "title_object" in entities else [])
    if topics is not None and topics["object"] not in objects:
        problems.append(Problem("duplicate-name", file, f"the topics choose on {topics['object']!r}, which is not an entity object ({', '.join(map(repr, objects))})", pointer="/topics/object"))
    return problems


def load_taxonomy(layout: Layout) -> Taxonomy:
    taxonomy, problems = check_taxonomy(layout)
    if taxonomy is None:
        raise InputError(Report(problems), "the taxonomy is invalid")
    return taxonomy


def taxonomy_from_label_config(xml: str) -> dict:
    """A taxonomy from an existing Label Studio labeling config, parsed by Label Studio's own
    LabelInterface: the Labels control on the text is the entity set (one on an object whose
    value is `$title` is the title's), the Choices control is the topic set; no Choices, no topics.
    A label's `hint` becomes its description; a value's `alias`, which results carry, its name.
    """
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(xml)

    def labels(control) -> list[dict]:
        return [{"name": name, **({"description": tag.attr["hint"]} if tag.attr.get("hint") else {})}
                for name, tag in control.labels_attrs.items()]

    spans = [c for c in interface.controls if c.tag == "Labels"]
    choices = [c for c in interface.controls if c.tag == "Choices"]
    titles = [c for c in spans if interface.get_object(c.to_name[0]).value_name == "title"]
    bodies = [c for c in spans if c not in titles]
    if len(bodies) != 1 or len(titles) > 1 or len(choices) > 1:
        raise ValueError(f"newscorpus needs one Labels control on the text (found {len(bodies)}), at most one on $title "
                         f"(found {len(titles)}) and at most one Choices control (found {len(choices)})")
    body = bodies[0]
    entities = {"control": body.name, "object": body.to_name[0], "labels": labels(body)}
    if titles:
        entities.update(title_control=titles[0].name, title_object=titles[0].to_name[0])
    taxonomy = {"entities": entities}
    if choices:
        taxonomy["topics"] = {"control": choices[0].name, "object": choices[0].to_name[0], "labels": labels(choices[0])}
    return taxonomy
