#!/usr/bin/env bash
# Fuzzes the frame decoder and the request decoder (Fuzz/FrameFuzzer.swift) with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]    (default 60 seconds)
#
# Builds SidecarFuzz and its dependencies with `-sanitize=fuzzer` in .build-fuzz (apart
# from the normal build, which it does not slow), links them with swiftc -sanitize=fuzzer
# into .build-fuzz/sidecar-fuzz, seeds a corpus from proto-spec/vectors/vectors.json and
# Fuzz/Seeds/ (valid requests of every operation) and runs for SECONDS. Crashing inputs land in .build-fuzz/artifacts/; replay one with
# `.build-fuzz/sidecar-fuzz FILE`. Exits non-zero when libFuzzer finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
build=.build-fuzz

swift build --build-path "$build" --target SidecarFuzz -Xswiftc -sanitize=fuzzer >&2
bin="$(swift build --build-path "$build" --show-bin-path)"
# Only SidecarFuzz and what it depends on are built there: link all of it. A Swift
# target's objects are those of its output file map (an object of a deleted source file
# stays on disk); a C target's are all of its directory.
mapfile -t objects < <(python3 - "$bin" <<'PY'
import glob, json, os, sys
for directory in sorted(glob.glob(os.path.join(sys.argv[1], "*.build"))):
    file_map = os.path.join(directory, "output-file-map.json")
    if os.path.exists(file_map):
        with open(file_map) as f:
            paths = [entry["object"] for entry in json.load(f).values() if "object" in entry]
    else:
        paths = glob.glob(os.path.join(directory, "**", "*.o"), recursive=True)
    for path in sorted(paths):
        if os.path.exists(path):
            print(path)
PY
)
swiftc -sanitize=fuzzer "${objects[@]}" -o "$build/sidecar-fuzz"

corpus="$build/corpus"
seeds="$build/seeds"
mkdir -p "$corpus" "$seeds" "$build/artifacts"
python3 - "$seeds" <<'PY'
import json, os, sys
out = sys.argv[1]
with open("proto-spec/vectors/vectors.json", encoding="utf-8") as f:
    vectors = json.load(f)["vectors"]
for v in vectors:
    stream = bytes.fromhex(v["stream_hex"])
    # Mode byte 0 (a stream), chunk size 7, then the stream.
    open(os.path.join(out, v["name"] + ".stream"), "wb").write(b"\x00\x07" + stream)
    i = n = 0
    while i + 4 <= len(stream):
        length = int.from_bytes(stream[i:i + 4], "big")
        payload = stream[i + 4:i + 4 + length]
        # Mode byte 1: one payload.
        open(os.path.join(out, f"{v['name']}.{n}.payload"), "wb").write(b"\x01" + payload)
        i += 4 + length
        n += 1
# Valid requests of every operation (the vectors have few), as single payloads.
import glob
for path in sorted(glob.glob("Fuzz/Seeds/*.json")):
    with open(path, "rb") as f:
        payload = f.read().strip()
    name = os.path.basename(path)
    open(os.path.join(out, name + ".payload"), "wb").write(b"\x01" + payload)
    open(os.path.join(out, name + ".stream"), "wb").write(b"\x00\x40" + len(payload).to_bytes(4, "big") + payload)
PY
# A dictionary of the protocol's words (every member name and enum value of the schemas,
# and numbers at the edges), so mutations reach the parameter checks.
python3 - "$build/protocol.dict" <<'PY'
import glob, json, sys
words = set()
def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                words.update(value.keys())
            if key in ("enum", "required") and isinstance(value, list):
                words.update(v for v in value if isinstance(v, str))
            if key == "const" and isinstance(value, str):
                words.add(value)
            walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)
for path in glob.glob("proto-spec/schema/*.json"):
    with open(path, encoding="utf-8") as f:
        walk(json.load(f))
tokens = sorted('"%s"' % w for w in words) + ["9223372036854775807", "4611686018427387904", "-1", "0", "1e3", "1.5", "null",
    "true", "[", "{", "\\ud800", "\\u0301"]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for token in tokens:
        out.write(json.dumps(token) + "\n")
PY

# libFuzzer, not the Swift runtime's backtracer, must handle a trap, to save the input.
export SWIFT_BACKTRACE=enable=no
exec "$build/sidecar-fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
    -dict="$build/protocol.dict" -artifact_prefix="$build/artifacts/" "$@" "$corpus" "$seeds"
