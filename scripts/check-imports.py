#!/usr/bin/env python3
"""Checks Package.swift's arrows against the code: every module a target imports is one
it declares, and every module it declares is one it imports (issue 15). And no module of
ours that the daemon links imports full Foundation (FoundationEssentials only): full
Foundation maps FoundationInternationalization and ICU. (postgres-nio, which the shared
state backend needs, links it anyway; see DaemonIntegrationTests.)

Executable targets declared by test targets are exempt from "imports": the tests run
them as programs. The toolchain's own modules (Foundation, Glibc, Synchronization,
Testing, ...) are not declared in Package.swift and are ignored.

    scripts/check-imports.py        # prints each mismatch; exit 1 if there is any
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
package = (root / "Package.swift").read_text()
toolchain = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Synchronization",
    "Testing", "XCTest", "Dispatch", "_Concurrency", "Swift", "PackageDescription",
}

# Each target declaration: .target(name: "X", ...), .executableTarget, .testTarget, .systemLibrary.
targets = {}
for match in re.finditer(r"\.(target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*\"([^\"]+)\"", package):
    kind, name = match.groups()
    # The declaration runs to the next target declaration (or the end of the list).
    nxt = re.compile(r"\.(target|executableTarget|testTarget|systemLibrary)\(\s*name:").search(package, match.end())
    body = package[match.end(): nxt.start() if nxt else len(package)]
    deps_text = re.search(r"dependencies:\s*\[(.*?)\]\s*(,|\))", body, re.S)
    deps = set()
    if deps_text:
        text = deps_text.group(1)
        deps |= set(re.findall(r"\.product\(\s*name:\s*\"([^\"]+)\"", text))
        text = re.sub(r"\.product\([^)]*\)", "", text)
        deps |= set(re.findall(r"\"([^\"]+)\"", text))
    path = re.search(r"path:\s*\"([^\"]+)\"", body)
    default = {"testTarget": "Tests/"}.get(kind, "Sources/") + name
    targets[name] = (kind, deps, root / (path.group(1) if path else default))

kinds = {name: kind for name, (kind, _, _) in targets.items()}
problems = []
for name, (kind, deps, directory) in sorted(targets.items()):
    if kind == "systemLibrary":
        continue
    imports = set()
    daemon_module = kind == "target" and name.startswith("Sidecar") and name not in ("SidecarTestSupport", "SidecarFuzz")
    for file in directory.rglob("*.swift"):
        if (daemon_module or name == "smtp-sidecar") and re.search(r"^\s*import\s+(struct\s+|class\s+)?Foundation(\.|\s*$)", file.read_text(), re.M):
            problems.append(f"{file.relative_to(root)} imports full Foundation; the daemon's modules use FoundationEssentials")
        for line in file.read_text().splitlines():
            # Swift imports only: a line of Python quoted in a test ("import socket, sys") is not one.
            if re.match(r"\s*import\s+\w+\s*,", line):
                continue
            found = re.match(r"\s*(?:@testable\s+|@preconcurrency\s+|@_exported\s+|package\s+|internal\s+|public\s+)*import\s+(?:struct\s+|enum\s+|class\s+|func\s+|protocol\s+)?([A-Za-z_][A-Za-z0-9_]*)", line)
            if found:
                imports.add(found.group(1))
    imports -= toolchain
    imports.discard(name.replace("-", "_"))
    # A target named with a hyphen is imported with an underscore.
    deps = {dep.replace("-", "_") if kinds.get(dep) == "executableTarget" and kind == "testTarget" and dep.replace("-", "_") in imports else dep for dep in deps}
    for module in sorted(imports - deps):
        problems.append(f"{name} imports {module} but does not declare it")
    for module in sorted(deps - imports):
        if kinds.get(module) == "executableTarget" and kind == "testTarget":
            continue
        problems.append(f"{name} declares {module} but imports it nowhere")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
