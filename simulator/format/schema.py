"""The scenario JSON Schema, generated from the same pydantic models the loader validates with."""

from __future__ import annotations

import inspect
import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from simulator.format.scenario import Model, Scenario

SCHEMA_ID = "https://ttx.invalid/scenario.schema.json"


def scenario_schema() -> dict[str, object]:
    """The JSON Schema of a scenario file, each field described by its docstring."""
    schema = Scenario.model_json_schema(mode="validation")
    models = {cls.__name__: cls for cls in _subclasses(Model)}
    for name, definition in [("Scenario", schema), *schema.get("$defs", {}).items()]:
        if name in models:
            _describe_fields(models[name], definition)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema}


def _subclasses(cls: type[Model]) -> list[type[Model]]:
    """Every scenario model class (subclasses of subclasses too)."""
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _describe_fields(cls: type[BaseModel], definition: dict[str, Any]) -> None:
    """Give each property of ``definition`` its field's docstring, unless it has a description.

    Reading docstrings from the source costs ~60 ms when every model class is defined, on every
    command that loads a scenario; only the schema needs them, so they are read here, with
    pydantic's own reader (``use_attribute_docstrings`` would do the same at class definition).
    """
    properties = definition.get("properties", {})
    for name, field in cls.model_fields.items():
        key = field.alias or name
        if key in properties and "description" not in properties[key]:
            doc = _field_doc(cls, name)
            if doc is not None:
                properties[key]["description"] = doc


def _field_doc(cls: type[BaseModel], name: str) -> str | None:
    """The docstring under the field's declaration, in the class that declares it."""
    for owner in cls.__mro__:
        if name in inspect.get_annotations(owner):
            return _docstrings(owner).get(name)
    return None


@cache
def _docstrings(cls: type[BaseModel]) -> dict[str, str]:
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    return extract_docstrings_from_cls(cls, use_inspect=True)


def schema_text() -> str:
    """The schema as stable, pretty JSON text (what ``scenarios/schema.json`` holds)."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path) -> None:
    """Regenerate the schema file."""
    path.write_text(schema_text(), encoding="utf-8")


if __name__ == "__main__":  # python -m simulator.format.schema: regenerate scenarios/schema.json
    write_schema(Path(__file__).resolve().parents[2] / "scenarios" / "schema.json")
