"""The layers: ``imrnet`` never imports ``repro`` or ``pipelines``; ``repro`` never imports
``pipelines`` (read from the source, every import statement, top-level or inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"imrnet": ("repro", "pipelines"), "repro": ("pipelines",)}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_no_package_imports_a_layer_above_it():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}"
           for pkg, above in FORBIDDEN.items() for p in sorted((ROOT / pkg).rglob("*.py"))
           for line, mod in _imports(p) if mod.split(".")[0] in above]
    assert not bad, bad
