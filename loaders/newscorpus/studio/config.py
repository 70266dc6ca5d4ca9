"""The Label Studio labeling config, generated from the taxonomy: entity Labels on title and text, topic Choices, Relations, entity links."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from label_studio_sdk.label_interface import LabelInterface

from ..taxonomy import Taxonomy


def labeling_config(taxonomy: Taxonomy) -> str:
    """The Label Studio XML: entity Labels on title and text, topic Choices, guidelines as hints."""
    view = ET.Element("View")

    def labels(control: str, obj: str):
        tag = ET.SubElement(view, "Labels", name=control, toName=obj)
        for label in taxonomy.entity_labels:
            attrs = {"value": label.name}
            if label.description:
                attrs["hint"] = label.description
            ET.SubElement(tag, "Label", attrs)

    if taxonomy.title_control and taxonomy.title_object:
        ET.SubElement(view, "Header", value="Title")
        labels(taxonomy.title_control, taxonomy.title_object)
        ET.SubElement(view, "Text", name=taxonomy.title_object, value=f"${taxonomy.title_object}")
    ET.SubElement(view, "Header", value="Article")
    labels(taxonomy.entity_control, taxonomy.entity_object)
    ET.SubElement(view, "Text", name=taxonomy.entity_object, value=f"${taxonomy.entity_object}")
    if taxonomy.links:
        ET.SubElement(view, "TextArea", name=taxonomy.links.control, toName=taxonomy.entity_object, perRegion="true", maxSubmissions="1",
                      placeholder=link_placeholder(taxonomy))
    if taxonomy.relation_labels:
        relations(view, taxonomy)
    if taxonomy.topic_labels:
        ET.SubElement(view, "Header", value="Topics")
        choices = ET.SubElement(view, "Choices", name=taxonomy.topic_control, toName=taxonomy.topic_object, choice="multiple", showInline="false")
        for topic in taxonomy.topic_labels:
            attrs = {"value": topic.name}
            hint = " ".join(x for x in (topic.code, topic.description) if x)
            if hint:
                attrs["hint"] = hint
            ET.SubElement(choices, "Choice", attrs)
    ET.indent(view)
    xml = ET.tostring(view, encoding="unicode")
    LabelInterface(xml)  # raises on a config Label Studio would refuse
    return xml


def relations(view: ET.Element, taxonomy: Taxonomy) -> None:
    """Label Studio's Relations tag (it takes no name and its Relation no hint): guidelines go in a folded panel."""
    tag = ET.SubElement(view, "Relations")
    for label in taxonomy.relation_labels:
        ET.SubElement(tag, "Relation", value=label.name)
    panel = ET.SubElement(ET.SubElement(view, "Collapse"), "Panel", value="Relation guidelines")
    for label in taxonomy.relation_labels:
        arrow = "head → tail" if label.directed else "either way"
        ET.SubElement(panel, "Header", size="6", value=f"{label.name} ({arrow}): {label.description}".strip())


def link_placeholder(taxonomy: Taxonomy) -> str:
    """What the link field of a selected span says before anything is typed in it."""
    kb = taxonomy.links.kb
    return f"{kb} id of the selected span" + (f" (NIL: not in {kb})" if taxonomy.links.accepts("NIL") else "")
