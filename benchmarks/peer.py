"""The peer: Label Studio's own converter (JSON_MIN and CONLL2003) and then datasets to Parquet.

The one fix a user of this path must make: JSON_MIN's topics column mixes strings and objects.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from datasets import Dataset
from label_studio_sdk.converter import Converter

from newscorpus.layout import Layout
from newscorpus.studio.config import labeling_config
from newscorpus.taxonomy import load_taxonomy


def main(corpus: Path, out: Path) -> None:
    taxonomy = dataclasses.replace(load_taxonomy(Layout(corpus)), title_control=None, title_object=None)
    converter = Converter(config=labeling_config(taxonomy), project_dir=None, download_resources=False)
    for export in sorted((corpus / "annotations").glob("*.json")):
        target = out / export.stem
        converter.convert_to_json_min(str(export), str(target / "json_min"), is_dir=False)
        converter.convert_to_conll2003(str(export), str(target / "conll"), is_dir=False)
        records = json.loads((target / "json_min" / "result.json").read_text())
        for record in records:  # JSON_MIN gives one choice as a string, several as {"choices": [...]}
            topics = record.get("topics", [])
            record["topics"] = [topics] if isinstance(topics, str) else topics.get("choices", []) if isinstance(topics, dict) else topics
        Dataset.from_list(records).to_parquet(str(target / "documents.parquet"))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
