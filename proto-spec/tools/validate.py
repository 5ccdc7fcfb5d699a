#!/usr/bin/env python3
"""Validates protocol messages against the JSON Schemas in proto-spec/schema/.

  validate.py vectors              every vector's request payloads: decodable ones must be
                                   valid requests, ones refused with invalid_params invalid
  validate.py responses FILE       FILE holds JSON lines {"op": OP|null, "response": {...}}:
                                   each response must be a valid response, and its result
                                   valid for OP when OP is given

Prints one line per failure and a closing "N passed, N failed" line; exits 1 on failure.
Needs the `jsonschema` package.
"""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "..", "schema")
VECTORS = os.path.join(HERE, "..", "vectors", "vectors.json")


def load_schemas():
    schemas = {}
    for name in sorted(os.listdir(SCHEMA_DIR)):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
                schemas[name] = json.load(f)
    return schemas


SCHEMAS = load_schemas()


def validator(name, pointer=None):
    """A validator for schema `name` (optionally a $defs entry), resolving cross-file $refs."""
    schema = SCHEMAS[name]
    target = {"$ref": schema["$id"] + (f"#/$defs/{pointer}" if pointer else "")}
    try:
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            (s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values())
        return jsonschema.Draft202012Validator(target, registry=registry)
    except ImportError:  # jsonschema < 4.18
        store = {s["$id"]: s for s in SCHEMAS.values()}
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        return jsonschema.Draft202012Validator(target, resolver=resolver)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def errors(v, instance):
    return [e.message for e in v.iter_errors(instance)]


def frames_of(stream):
    i = 0
    while i + 4 <= len(stream):
        n = int.from_bytes(stream[i:i + 4], "big")
        payload = stream[i + 4:i + 4 + n]
        if len(payload) < n:
            return
        yield payload
        i += 4 + n


def check_vectors(t):
    request = validator("request.schema.json")
    with open(VECTORS, encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    for vector in vectors:
        payloads = list(frames_of(bytes.fromhex(vector["stream_hex"])))
        for payload, expected in zip(payloads, vector["frames"]):
            try:
                document = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                t.check("error" in expected and expected["error"]["code"] == "invalid_json", f"{vector['name']}: not JSON")
                continue
            problems = errors(request, document)
            if "request" in expected:
                t.check(not problems, f"{vector['name']}: accepted by the server but invalid: {problems}")
            elif expected.get("error", {}).get("code") in ("invalid_params", "missing_id", "not_an_object", "unknown_operation"):
                t.check(bool(problems), f"{vector['name']}: refused by the server but valid by the schema")


def check_responses(t, path):
    response = validator("response.schema.json")
    operations = ("hello", "ping", "stats", "send", "verify", "metrics", "credential_status")
    # A schema file is named after its operation, with hyphens for underscores.
    results = {op: validator(f"{op.replace('_', '-')}.schema.json", "result") for op in operations}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            document = record["response"]
            problems = errors(response, document)
            t.check(not problems, f"line {number}: invalid response {document}: {problems}")
            op = record.get("op")
            if op and document.get("ok") and op in results:
                problems = errors(results[op], document["result"])
                t.check(not problems, f"line {number}: invalid {op} result {document['result']}: {problems}")


def main():
    t = Tally()
    for s in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(s)
    if len(sys.argv) >= 2 and sys.argv[1] == "vectors":
        check_vectors(t)
    elif len(sys.argv) == 3 and sys.argv[1] == "responses":
        check_responses(t, sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
    t.finish()


if __name__ == "__main__":
    main()
