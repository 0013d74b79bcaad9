"""The layers (docs/conventions.md, "Layers"), read from the source with ``ast`` so that an
import inside a function counts as much as one at the top of a module:

* ``imrnet`` never imports ``repro`` or ``pipelines``; ``repro`` never imports ``pipelines``;
* no library module imports a command-line module (``__main__``, ``imrnet.codec.cli``): CLIs
  sit on top of library functions;
* the subpackages of ``imrnet`` import each other without a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("imrnet", "repro", "pipelines")
CLI = ("imrnet.codec.cli",)


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, function-local ones included;
    ``from pkg import sub`` names ``pkg.sub``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            out += [(node.lineno, mod)] + [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def _is_cli(mod: str) -> bool:
    return mod.endswith(".__main__") or mod in CLI


def test_no_layer_imports_upward_and_no_library_imports_a_cli():
    bad = []
    for name, path in _modules().items():
        top = name.split(".")[0]
        for line, mod in _imports(name, path):
            target = mod.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {mod}"
            if (top == "imrnet" and target in ("repro", "pipelines")) or \
                    (top == "repro" and target == "pipelines"):
                bad.append(where + " (upward)")
            if _is_cli(mod) and not _is_cli(name):
                bad.append(where + " (a command-line module)")
    assert not bad, "\n".join(bad)


def test_the_subpackages_of_imrnet_import_each_other_without_a_cycle():
    mods = _modules()
    sub = lambda m: ".".join(m.split(".")[:2])  # noqa: E731  imrnet.<subpackage or module>
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        if not name.startswith("imrnet.") or _is_cli(name):
            continue
        for _, mod in _imports(name, path):
            if mod.startswith("imrnet.") and sub(mod) != sub(name):
                graph.setdefault(sub(name), set()).add(sub(mod))
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(n, trail):
        if state.get(n) == 1:
            raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(n):] + [n]))
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            visit(m, trail + [n])
        state[n] = 2

    for n in sorted(graph):
        visit(n, [])
    assert "imrnet.data" in graph and "imrnet.train" in graph  # the walk saw the packages


def test_the_checks_see_an_upward_and_a_circular_import(tmp_path, monkeypatch):
    """The two checks above fail on the mistakes they are for (a planted package)."""
    for pkg, files in {"imrnet": {"__init__.py": "", "a/__init__.py": "",
                                  "a/x.py": "from ..b import y\nimport repro.z\n",
                                  "b/__init__.py": "", "b/y.py": "def f():\n    from ..a import x\n"},
                       "repro": {"__init__.py": "", "z.py": ""},
                       "pipelines": {"__init__.py": ""}}.items():
        for rel, text in files.items():
            (tmp_path / pkg / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / pkg / rel).write_text(text)
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    for check, msg in ((test_no_layer_imports_upward_and_no_library_imports_a_cli, "upward"),
                       (test_the_subpackages_of_imrnet_import_each_other_without_a_cycle, "cycle")):
        try:
            check()
        except AssertionError as e:
            assert msg in str(e)
        else:
            raise AssertionError(f"{check.__name__} passed on a planted {msg} import")
