#!/usr/bin/env python3
"""The house rules as a check, not a review (ARCHITECTURE.md says them in words).

1. Crates: each crate's normal dependency tree (`cargo tree -e normal --target all`) holds only
   the crates of ours it may use, and none of the crates it must not (UI crates below the app,
   the SDK in the store).
2. Modules: inside each crate, no two modules import each other, directly or round a circle
   (`use` paths and `crate::`/`super::` paths in code; test modules aside), and the folders
   import only in the allowed direction (the engine's base ← client ← links/trust/transfer ←
   ops; the store's disk ← s3 ← server; the app's fronts never each other).

Exits 1 with one line per broken rule.
"""

import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

UI_CRATES = {"egui", "eframe", "winit", "rfd", "arboard", "clap", "indicatif", "egui_kittest"}

# crate -> (ours it may depend on, crates it must not have anywhere in its tree)
CRATE_RULES = {
    "s3share-core": (set(), UI_CRATES | {"aws-sdk-s3", "s3s", "tokio", "reqwest"}),
    "s3share-store": ({"s3share-core"}, UI_CRATES | {"aws-sdk-s3", "aws-config", "reqwest"}),
    "s3share-engine": ({"s3share-core"}, UI_CRATES | {"s3s"}),
    "s3share-testkit": ({"s3share-core", "s3share-store", "s3share-engine"}, UI_CRATES),
    "s3share": ({"s3share-core", "s3share-store", "s3share-engine"}, set()),
}

# crate dir -> {folder: folders it may import} (a folder may always import itself; the crate
# root, lib.rs, may import anything). Folders not listed may import anything but the
# listed rules still apply to what imports them.
FOLDER_RULES = {
    "crates/s3share-engine": {
        "base": {"base"},
        "client": {"base", "client"},
        "links": {"base", "client", "links"},
        "trust": {"base", "client", "trust"},
        "transfer": {"base", "client", "transfer"},
        "ops": {"base", "client", "links", "trust", "transfer", "ops"},
    },
    "crates/s3share-store": {
        "error": {"error"},
        "credentials": {"error", "credentials"},
        "disk": {"disk", "error"},
        "s3": {"disk", "s3"},
        "server": {"disk", "s3", "server"},
    },
    "crates/s3share-core": {},
    ".": {
        "local": {"local"},
        "logging": {"logging"},
        "desktop": {"desktop"},
        "cli": {"cli", "local", "logging", "desktop"},
        "gui": {"gui", "local", "logging", "desktop"},
    },
}

PATH_RE = re.compile(r"\b((?:crate|super|self)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")


def crate_problems():
    problems = []
    ours = set(CRATE_RULES)
    for crate, (allowed, forbidden) in CRATE_RULES.items():
        out = subprocess.run(
            ["cargo", "tree", "-p", crate, "-e", "normal", "--target", "all",
             "--prefix", "none", "--format", "{p}", "--offline"],
            cwd=ROOT, capture_output=True, text=True,
        )
        if out.returncode != 0:
            out = subprocess.run(
                ["cargo", "tree", "-p", crate, "-e", "normal", "--target", "all",
                 "--prefix", "none", "--format", "{p}"],
                cwd=ROOT, capture_output=True, text=True,
            )
        if out.returncode != 0:
            problems.append(f"cargo tree -p {crate} failed: {out.stderr.strip()}")
            continue
        names = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
        names.discard(crate)
        for name in sorted(names & ours - allowed):
            problems.append(f"crate {crate} depends on {name}, which it may not")
        for name in sorted(names & forbidden):
            problems.append(f"crate {crate} has {name} in its dependency tree, which it may not")
    return problems


def module_files(crate_dir):
    """module path (tuple) -> file, for the crate's library."""
    src = os.path.join(ROOT, crate_dir, "src")
    mods = {}
    for dirpath, _, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        parts = () if rel == "." else tuple(rel.split(os.sep))
        if parts and parts[0] == "bin":
            continue
        for f in files:
            if not f.endswith(".rs"):
                continue
            if not parts and f in ("main.rs",):
                continue
            if f in ("lib.rs",) and not parts:
                mods[()] = os.path.join(dirpath, f)
            elif f == "mod.rs":
                mods[parts] = os.path.join(dirpath, f)
            else:
                mods[parts + (f[:-3],)] = os.path.join(dirpath, f)
    return mods


def strip_tests(text):
    """The file without its `#[cfg(test)]` items (test modules, test-only helpers)."""
    out = []
    i = 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = text.find("{", j)
        semi = text.find(";", j)
        if k < 0 or (0 <= semi < k):
            i = semi + 1 if semi >= 0 else len(text)
            continue
        depth = 0
        m = k
        while m < len(text):
            if text[m] == "{":
                depth += 1
            elif text[m] == "}":
                depth -= 1
                if depth == 0:
                    break
            m += 1
        i = m + 1
    return "".join(out)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # string literals hold no paths that matter
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    brace = tree.find("{")
    if brace < 0:
        return [tree.split(" as ")[0].strip()]
    prefix = tree[:brace]
    inner = tree[brace + 1: tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if p == "self":
            out.append(prefix.rstrip(":"))
        else:
            out.extend(expand_use(prefix + p))
    return out


def resolve(path, here, mods):
    segs = path.split("::")
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    else:
        base, rest = here, segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    target = base
    for s in rest:
        if target + (s,) in mods:
            target = target + (s,)
        else:
            break
    return target


def module_problems(crate_dir):
    mods = module_files(crate_dir)
    edges = defaultdict(set)
    for mod, path in mods.items():
        text = strip_comments(strip_tests(open(path, encoding="utf-8").read()))
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            paths.extend(expand_use(m.group(1)))
        body = re.sub(r"\buse\s+[^;]+;", "", text)
        paths.extend(m.group(1) for m in PATH_RE.finditer(body))
        for p in paths:
            first = p.split("::")[0]
            if first not in ("crate", "super", "self"):
                # A path relative to this module (`use child::Item;`), or another crate's.
                if mod + (first,) not in mods:
                    continue
                p = "self::" + p
            target = resolve(p, mod, mods)
            if target != mod and target in mods:
                edges[mod].add(target)
    problems = []
    # Cycles: strongly connected components of more than one module.
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(comp)

    sys.setrecursionlimit(10000)
    for v in mods:
        if v not in index:
            strong(v)
    name = lambda m: "::".join(m) or "(crate root)"
    for comp in comps:
        if len(comp) > 1:
            problems.append(
                f"{crate_dir}: modules import each other in a circle: "
                + ", ".join(sorted(name(m) for m in comp))
            )
    rules = FOLDER_RULES.get(crate_dir, {})
    for src, targets in edges.items():
        if not src:
            continue
        allowed = rules.get(src[0])
        for t in targets:
            if not t or t[0] == src[0]:
                continue
            if allowed is not None and t[0] not in allowed:
                problems.append(
                    f"{crate_dir}: {name(src)} imports {name(t)}, but {src[0]}/ may import only {', '.join(sorted(allowed))}"
                )
            elif allowed is None and t[0] in rules and src[0] not in rules:
                pass
    return problems


def main():
    problems = crate_problems()
    for crate_dir in FOLDER_RULES:
        problems.extend(module_problems(crate_dir))
    problems.extend(module_problems("crates/s3share-testkit"))
    for p in problems:
        print(f"architecture: {p}")
    if problems:
        sys.exit(1)
    print("architecture: every crate and module imports only what ARCHITECTURE.md allows")


if __name__ == "__main__":
    main()
