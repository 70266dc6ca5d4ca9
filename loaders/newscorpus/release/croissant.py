"""MLCommons Croissant metadata for a release, built with mlcroissant from the release's features."""

from __future__ import annotations

from pathlib import Path

import mlcroissant as mlc
from datasets import ClassLabel, List

DATA_TYPES = {"string": mlc.DataType.TEXT, "bool": mlc.DataType.BOOL, "float32": mlc.DataType.FLOAT,
              "int32": mlc.DataType.INTEGER, "int64": mlc.DataType.INTEGER}


def field_for(record_set: str, name: str, feature, file_set: str, column: str | None = None) -> mlc.Field:
    uid = f"{record_set}/{name}"
    repeated = isinstance(feature, List)
    inner = feature.feature if repeated else feature
    source = mlc.Source(file_set=file_set, extract=mlc.Extract(column=column or name))
    if isinstance(inner, dict):
        subs = [field_for(uid, key, value, file_set, f"{column or name}/{key}") for key, value in inner.items()]
        return mlc.Field(id=uid, name=name, repeated=repeated, sub_fields=subs, source=source)
    data_type = mlc.DataType.INTEGER if isinstance(inner, ClassLabel) else DATA_TYPES[inner.dtype]
    description = f"ClassLabel: {', '.join(inner.names)}" if isinstance(inner, ClassLabel) else None
    return mlc.Field(id=uid, name=name, data_types=[data_type], repeated=repeated, source=source, description=description)


def croissant_metadata(context, release_dir: Path) -> dict:
    distribution, record_sets = [], []
    for config in context.configs:
        file_set = f"{config.name}-parquet"
        distribution.append(mlc.FileSet(id=file_set, name=file_set, encoding_formats=["application/x-parquet"],
                                        includes=[f"{config.name}/*.parquet"]))
        fields = [field_for(config.name, name, feature, file_set) for name, feature in config.info.features.items()]
        record_sets.append(mlc.RecordSet(id=config.name, name=config.name, fields=fields))
    metadata = mlc.Metadata(
        name=context.settings["pretty_name"],
        description=context.settings["description"],
        license=[context.settings["license"]],
        url="https://huggingface.co/datasets/newscorpus",
        version=context.version,
        cite_as=context.settings.get("citation"),
        distribution=distribution,
        record_sets=record_sets,
    )
    return metadata.to_json()
