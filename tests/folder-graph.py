#!/usr/bin/env python3
"""The dependency graph between the top folders of src/MiniRedis, and its cycles.

A folder depends on another when one of its files names it: `using MiniRedis.X...;`, a qualified
name `MiniRedis.X.` or `X.Type` (a type declared in namespace MiniRedis.X...), and on the root
(`.`, RedisServer's folder) when it names a type declared there. Comments are left out.
With --split F, F's subfolders are nodes of their own (F/Io, F/Aof, ...); with --detail F, the
files behind each edge from or to F; --cycles F prints, for each folder F depends on, the shortest
way back to F.
Exits with status 1 when two folders depend on each other or a longer cycle exists (the suite's
FolderGraphTests runs it).
Usage: tests/folder-graph.py [--split FOLDER] [--detail FOLDER | --cycles FOLDER]  (from the repository root)
"""
import os, re, sys
from collections import deque

ROOT = "src/MiniRedis"
args = sys.argv[1:]
option = lambda name: args[args.index(name) + 1] if name in args else None
split = option("--split")
files = {}
for d, _, names in os.walk(ROOT):
    if "/obj" in d or "/bin" in d: continue
    for n in names:
        if n.endswith(".cs"):
            path = os.path.join(d, n)
            rel = os.path.relpath(path, ROOT)
            parts = rel.split(os.sep)
            folder = "." if len(parts) == 1 else parts[0] + "/" + parts[1] if parts[0] == split and len(parts) > 2 else parts[0]
            files[path] = folder

def code(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*", "", line) for line in text.splitlines())

types = {}  # type name -> folder that declares it
sources = {}
for path, folder in files.items():
    text = open(path, encoding="utf-8").read()
    sources[path] = code(text)
    ns = re.search(r"^namespace\s+([\w.]+)", text, re.M)
    names = ns.group(1).split(".") if ns else ["MiniRedis"]
    top = "." if len(names) == 1 else names[1] + "/" + names[2] if names[1] == split and len(names) > 2 else names[1]
    for t in re.findall(r"\b(?:class|struct|interface|enum|record|delegate\s+\w+)\s+(\w+)", sources[path]):
        types.setdefault(t, set()).add(top)
root_types = {t for t, fs in types.items() if fs == {"."}}
folders = sorted(set(files.values()))

edges = {}  # (from, to) -> example files
for path, folder in files.items():
    src = sources[path]
    deps = set()
    for m in re.finditer(r"\bMiniRedis\.(\w+)(?:\.(\w+))?", src):
        deps.add(m.group(1) + "/" + m.group(2) if m.group(1) == split and m.group(2) else m.group(1))
    for m in re.finditer(r"(?<![\w.])(\w+)\.([A-Z]\w*)", src):
        if m.group(1) in folders and m.group(1) in types.get(m.group(2), set()): deps.add(m.group(1))
    # A split folder F/X names the types of its parent namespace F without a using.
    parent = folder.split("/")[0] if "/" in folder else None
    if parent and any(fs == {parent} and re.search(r"(?<![\w.])%s\b" % t, src) for t, fs in types.items()): deps.add(parent)
    deps &= set(folders)
    if folder != "." and any(re.search(r"\b%s\b" % t, src) for t in root_types): deps.add(".")
    for d in deps - {folder}:
        edges.setdefault((folder, d), []).append(os.path.relpath(path, ROOT))

graph = {f: sorted(d for (s, d) in edges if s == f) for f in folders}
if option("--detail"):
    for (s, d), where in sorted(edges.items()):
        if option("--detail") in (s, d): print(f"{s} -> {d}: {', '.join(sorted(where))}")
    sys.exit(0)
if target := option("--cycles"):
    for start in graph[target]:
        back, queue = {start: None}, deque([start])
        while queue and target not in back:
            v = queue.popleft()
            for w in graph[v]:
                if w not in back: back[w] = v; queue.append(w)
        path, v = [], target if target in back else None
        while v is not None: path.append(v); v = back[v]
        print(f"{target} -> " + (" -> ".join(reversed(path)) if path else f"{start} (no way back)"))
    sys.exit(0)
for f in folders: print(f"{f:14} -> {' '.join(graph[f]) or '-'}")

# Two-folder cycles, then whether any longer cycle exists (strongly connected components).
print("\nmutual dependencies:")
mutual = sorted((a, b) for a in folders for b in graph[a] if a < b and a in graph[b])
for a, b in mutual:
    print(f"  {a} <-> {b}")
def cycles(graph):
    """The strongly connected groups of more than one folder (Tarjan)."""
    index, low, stack, on, groups = {}, {}, [], set(), []
    def visit(v):
        index[v] = low[v] = len(index); stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop()); on.discard(group[-1])
            if len(group) > 1: groups.append(sorted(group))
    for f in graph:
        if f not in index: visit(f)
    return "; ".join(" ".join(c) for c in groups) or "none"

knots = cycles(graph)
print("folders on a cycle (strongly connected):", knots)
sys.exit(1 if mutual or knots != "none" else 0)
