"""The scenario JSON Schema, generated from the same pydantic models the loader validates with."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.format.scenario import Scenario

SCHEMA_ID = "https://ttx.invalid/scenario.schema.json"


def scenario_schema() -> dict[str, object]:
    """The JSON Schema of a scenario file."""
    schema = Scenario.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema}


def schema_text() -> str:
    """The schema as stable, pretty JSON text (what ``scenarios/schema.json`` holds)."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path) -> None:
    """Regenerate the schema file."""
    path.write_text(schema_text(), encoding="utf-8")


if __name__ == "__main__":  # python -m simulator.format.schema: regenerate scenarios/schema.json
    write_schema(Path(__file__).resolve().parents[2] / "scenarios" / "schema.json")
