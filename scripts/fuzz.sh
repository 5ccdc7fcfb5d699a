#!/usr/bin/env bash
# Fuzzes with libFuzzer, one binary holding four targets (Fuzz/):
#
#   frame     a client's byte stream through the frame decoder, each payload answered
#   request   one frame payload through the request decoder and every parameter check
#   reply     a server's bytes through the SMTP reply decoder (Sources/SidecarSMTP/Codec)
#   address   text through the address parsers (Sources/SidecarMessage/Address)
#
#   scripts/fuzz.sh TARGET|all [SECONDS] [extra libFuzzer flags...]   (default 60 seconds each)
#   scripts/fuzz.sh SECONDS                                          (all targets)
#
# Builds SidecarFuzz and its dependencies with `-sanitize=fuzzer` in .build-fuzz (apart
# from the normal build, which it does not slow), links them with swiftc -sanitize=fuzzer
# into .build-fuzz/sidecar-fuzz, seeds each target's corpus (frame and request from
# proto-spec/vectors/vectors.json and Fuzz/Seeds/*.json; reply from Fuzz/Seeds/reply/;
# address from Fuzz/Seeds/address/), and runs each target for SECONDS. Crashing inputs land
# in .build-fuzz/artifacts/TARGET/; replay one with
# `SIDECAR_FUZZ_TARGET=TARGET .build-fuzz/sidecar-fuzz FILE`. Exits non-zero when libFuzzer
# finds a crash in any target (every target still runs).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(frame request reply address)
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    selected=(all)
else
    selected=("${1:-all}")
    shift || true
fi
seconds="${1:-60}"
shift || true
if [ "${selected[0]}" = all ]; then
    selected=("${targets[@]}")
elif [[ ! " ${targets[*]} " =~ " ${selected[0]} " ]]; then
    echo "fuzz.sh: unknown target ${selected[0]} (one of: ${targets[*]}, all)" >&2
    exit 2
fi
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
# BoringSSL (under SidecarSMTP's NIOSSL) has C++ objects.
swiftc -sanitize=fuzzer "${objects[@]}" -lstdc++ -o "$build/sidecar-fuzz"

seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{frame,request,reply,address}
python3 - "$seeds" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def write(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)
with open("proto-spec/vectors/vectors.json", encoding="utf-8") as f:
    vectors = json.load(f)["vectors"]
for v in vectors:
    stream = bytes.fromhex(v["stream_hex"])
    # frame: a read size of 7, then the stream.
    write("frame", v["name"], b"\x07" + stream)
    i = n = 0
    while i + 4 <= len(stream):
        length = int.from_bytes(stream[i:i + 4], "big")
        write("request", f"{v['name']}.{n}", stream[i + 4:i + 4 + length])
        i += 4 + length
        n += 1
# Valid requests of every operation (the vectors have few).
for path in sorted(glob.glob("Fuzz/Seeds/*.json")):
    with open(path, "rb") as f:
        payload = f.read().strip()
    name = os.path.basename(path)
    write("request", name, payload)
    write("frame", name, b"\x40" + len(payload).to_bytes(4, "big") + payload)
# Server transcripts, with the daemon's limits read whole, and with small limits read in 3s.
for path in sorted(glob.glob("Fuzz/Seeds/reply/*")):
    with open(path, "rb") as f:
        stream = f.read()
    name = os.path.basename(path)
    write("reply", name + ".default", b"\x00\xff" + stream)
    write("reply", name + ".small", b"\x01\x03" + stream)
for path in sorted(glob.glob("Fuzz/Seeds/address/*")):
    with open(path, "rb") as f:
        write("address", os.path.basename(path), f.read())
PY
# Dictionaries. frame and request: the protocol's words (every member name and enum value
# of the schemas, and numbers at the edges), so mutations reach the parameter checks.
python3 - "$build" <<'PY'
import glob, json, os, sys
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
protocol = sorted('"%s"' % w for w in words) + ["9223372036854775807", "4611686018427387904", "-1", "0", "1e3", "1.5", "null",
    "true", "[", "{", "\\ud800", "\\u0301"]
reply = ["250", "250-", "250 ", "220 ", "421 ", "354 ", "535 ", "599", "199", "600", "\r\n", "\n", "\r", "2.0.0 ", "4.7.0 ",
    "5.7.8 ", "2.1.0", "5.0.0 ", "PIPELINING", "CHUNKING", "AUTH PLAIN LOGIN", b"\xff", b"\xc3\xa9"]
address = ["@", "<", ">", "\"", "\\", "(", ")", ",", ";", ":", "[", "]", ".", "..", " ", "\t", "\r\n", "xn--", "example.com",
    "[192.0.2.1]", "[IPv6:::1]", "=?utf-8?q?", "\u00e9", "\u0301", "\u00df", "\uff0e"]
def entry(token):
    # libFuzzer's dictionary syntax: a quoted string with \\, \" and \xNN escapes only.
    data = token if isinstance(token, bytes) else token.encode("utf-8")
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else "\\x%02x" % b for b in data) + '"'
for name, tokens in [("protocol", protocol), ("reply", reply), ("address", address)]:
    with open(os.path.join(sys.argv[1], name + ".dict"), "w", encoding="ascii") as out:
        for token in tokens:
            out.write(entry(token) + "\n")
PY

# libFuzzer, not the Swift runtime's backtracer, must handle a trap, to save the input.
export SWIFT_BACKTRACE=enable=no
failed=()
for target in "${selected[@]}"; do
    case "$target" in
        frame | request) dict=protocol max_len=8192 ;;
        reply) dict=reply max_len=12000 ;;  # past the decoder's 4096-byte line limit
        address) dict=address max_len=2048 ;;
    esac
    mkdir -p "$build/corpus/$target" "$build/artifacts/$target"
    echo "fuzz.sh: $target for ${seconds}s" >&2
    if ! SIDECAR_FUZZ_TARGET="$target" "$build/sidecar-fuzz" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -print_final_stats=1 -dict="$build/$dict.dict" -artifact_prefix="$build/artifacts/$target/" "$@" \
        "$build/corpus/$target" "$seeds/$target"; then
        failed+=("$target")
    fi
done
if ((${#failed[@]})); then
    echo "fuzz.sh: crashes in ${failed[*]}: see $build/artifacts/" >&2
    exit 1
fi
echo "fuzz.sh: ${selected[*]}: no crash" >&2
