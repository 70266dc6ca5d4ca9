"""JSON Schema checks: one Draft 2020-12 validator (jsonschema-rs) is the only judge.

It answers "valid?" fast enough to check every task of an export one by one, its patterns mean
what they say (`$` is the end of the string, not "before a final newline" as in Python's `re`),
and `format` is asserted, so 2023-02-30 is not a date. Messages say the reason first (what was
expected, what was found), then a short excerpt of the value, never the whole value.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema_rs
import orjson

from .layout import Layout
from .problems import InputError, Problem, Report

EXCERPT_LIMIT = 60
JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def json_pointer(path) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def json_type(value) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


def excerpt(value) -> str:
    """A value as a reader can place it: short JSON for scalars, a summary for objects and arrays."""
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:5])) + (", ..." if len(value) > 5 else "")
        return f"an object with keys {keys}" if value else "an empty object"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, str):  # invisible characters (zero-width, controls) are shown as escapes
        value = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in value[: EXCERPT_LIMIT + 1])
        text = f'"{value}"'
    else:
        text = orjson.dumps(value).decode() if not isinstance(value, float) else repr(value)
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 4] + '..."'


def reason(error: jsonschema_rs.ValidationError) -> str:
    """What was expected and what was found, from the failing keyword; jsonschema-rs's own message
    starts with the whole value, which for a file of the wrong shape is the whole file."""
    kind, found = error.kind, error.instance
    name = kind.name
    if name == "type":
        return f"expected {' or '.join(kind.types)}, found {json_type(found)}: {excerpt(found)}"
    if name == "required":
        return f"the required key {kind.property!r} is missing"
    if name == "additionalProperties":
        return f"unexpected keys {', '.join(map(repr, kind.unexpected))}"
    if name == "pattern":
        return f"does not match the pattern {kind.pattern}: {excerpt(found)}"
    if name == "format":
        return f"is not a valid {kind.format}: {excerpt(found)}"
    if name == "not" and set(kind.schema) == {"pattern"}:
        return f"must not match the pattern {kind.schema['pattern']}: {excerpt(found)}"
    if name == "enum":
        return f"expected one of {', '.join(map(excerpt, kind.options))}, found {excerpt(found)}"
    if name == "const":
        return f"expected {excerpt(kind.expected_value)}, found {excerpt(found)}"
    bounds = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}
    if name in bounds:
        return f"expected a number {bounds[name]} {kind.limit}, found {excerpt(found)}"
    if name in ("minLength", "maxLength"):
        return f"expected {'at least' if name == 'minLength' else 'at most'} {kind.limit} characters, found {len(found)}: {excerpt(found)}"
    if name in ("minItems", "maxItems"):
        return f"expected {'at least' if name == 'minItems' else 'at most'} {kind.limit} items, found {len(found)}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.OneOfMultipleValid):
        return f"matches more than one of the allowed shapes: {excerpt(found)}"
    if name in ("oneOf", "anyOf"):
        return f"matches none of the allowed shapes: {excerpt(found)}"
    shortened = error.message
    return shortened if len(shortened) <= 200 else shortened[:197] + "..."


class SchemaInvalid(InputError):
    """A schema file that is not a Draft 2020-12 schema: nothing can be checked against it, so the
    command stops at this one error instead of blaming every record."""

    def __init__(self, problem: Problem):
        super().__init__(Report([problem]), f"nothing was checked: {problem.file} is not a valid JSON Schema")
        self.problem = problem


def reference_pointer(schema, target: str, path=()) -> str:
    """Where in `schema` the `$ref` to `target` stands ("" if it cannot be found)."""
    if isinstance(schema, dict):
        if schema.get("$ref") == target:
            return json_pointer([*path, "$ref"])
        items = schema.items()
    elif isinstance(schema, list):
        items = enumerate(schema)
    else:
        return ""
    return next((found for key, value in items if (found := reference_pointer(value, target, (*path, key)))), "")


def schema_problem(error: jsonschema_rs.ValidationError, schema, file: str) -> Problem:
    """What jsonschema-rs found wrong with a schema, at its place in the schema file."""
    if error.kind.name == "$ref":  # the message names the missing target; the pointer is the $ref's own place
        target = error.message.removeprefix("Pointer '").partition("'")[0]
        pointer = reference_pointer(schema, "#" + target) if error.message.startswith("Pointer '") else ""
        return Problem("schema-invalid", file, f"is not a valid Draft 2020-12 schema: $ref: {error.message}", pointer=pointer)
    path = list(error.instance_path)
    where = f"the value of {path[-1]!r}" if path else "the schema"
    if path and path[-1] == "type" and error.kind.name == "anyOf":
        return Problem("schema-invalid", file, f"is not a valid Draft 2020-12 schema: {where} must be one of {', '.join(JSON_TYPES)} "
                       f"or an array of them, found {excerpt(error.instance)}", pointer=json_pointer(path))
    return Problem("schema-invalid", file, f"is not a valid Draft 2020-12 schema: {where} {reason(error)}", pointer=json_pointer(path))


def load_schema(schema_path: Path, file: str):
    try:
        return orjson.loads(schema_path.read_bytes())
    except OSError as err:
        raise SchemaInvalid(Problem("file-unreadable", file, err.strerror or str(err))) from None
    except orjson.JSONDecodeError as err:
        raise SchemaInvalid(Problem("schema-invalid", file, f"is not valid JSON: {err.msg} at column {err.colno}", line=err.lineno)) from None


class SchemaCheck:
    """Checks against a schema file, or against one of its definitions (`definition="task"`).

    The schema is compiled at once: one that is not a valid Draft 2020-12 schema raises
    SchemaInvalid, naming `file` (the schema file as the user knows it) and the pointer in it."""

    def __init__(self, schema_path: Path, definition: str | None = None, file: str | None = None):
        self.path = schema_path
        file = file or str(schema_path)
        self.schema = load_schema(schema_path, file)
        if definition is not None and isinstance(self.schema, dict):
            kept = {k: v for k, v in self.schema.items() if k in ("$schema", "$id", "$defs")}
            self.schema = {**kept, "$ref": f"#/$defs/{definition}"}
        try:
            self._validator = jsonschema_rs.Draft202012Validator(self.schema, validate_formats=True)
        except jsonschema_rs.ValidationError as err:
            raise SchemaInvalid(schema_problem(err, self.schema, file)) from None
        except jsonschema_rs.ReferencingError as err:
            raise SchemaInvalid(Problem("schema-invalid", file, f"is not a valid Draft 2020-12 schema: {err}")) from None

    @classmethod
    def of_corpus(cls, layout: Layout, name: str, definition: str | None = None) -> SchemaCheck:
        """The corpus's own copy of schema `name`, else the packaged one, named as the user knows it."""
        path = layout.schema_path(name)
        return cls(path, definition, layout.relative(path))

    def errors(self, instance, prefix=()) -> list[tuple[str, str]]:
        """(JSON pointer, message) for each way `instance` breaks the schema; empty when valid."""
        try:
            if self._validator.is_valid(instance):
                return []
            found = sorted(self._validator.iter_errors(instance), key=lambda e: list(map(str, e.instance_path)))
        except ValueError as err:  # jsonschema-rs's "Recursion limit reached": a value nested too deep to walk
            return [(json_pointer(prefix), f"cannot be checked: arrays and objects are nested too deeply ({err})")]
        return [(json_pointer([*prefix, *e.instance_path]), reason(e)) for e in found]
