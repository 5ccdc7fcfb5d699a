"""JSON Schema validators for proto-spec/schema (tests only: needs jsonschema)."""
from __future__ import annotations

import json
import os

import pytest

jsonschema = pytest.importorskip("jsonschema")

from live import REPO  # noqa: E402

SCHEMA_DIR = os.path.join(REPO, "proto-spec", "schema")
VECTORS = os.path.join(REPO, "proto-spec", "vectors", "vectors.json")


def _load():
    out = {}
    for name in sorted(os.listdir(SCHEMA_DIR)):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
                out[name] = json.load(f)
    return out


SCHEMAS = _load()


def validator(name: str, pointer: str = ""):
    schema = SCHEMAS[name]
    target = {"$ref": schema["$id"] + (f"#/$defs/{pointer}" if pointer else "")}
    from referencing import Registry, Resource

    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values())
    return jsonschema.Draft202012Validator(target, registry=registry)


def load_vectors():
    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f)
