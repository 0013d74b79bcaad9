"""Every DVC stage depends on exactly the project code it runs: the Python files its command's
module imports, transitively (function-local imports and the packages' ``__init__`` files
included), read with ``ast``. A folder in ``deps`` stands for every ``.py`` file under it. A
stage missing a file it imports would not rerun when that file changes; one listing a file it
never imports reruns for nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("imrnet", "repro", "pipelines")


def _module_file(mod: str) -> Path | None:
    base = ROOT.joinpath(*mod.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _direct(path: Path) -> set[str]:
    """Project modules ``path`` imports (``from pkg import name`` counts ``pkg.name`` when that
    is a module), each with the packages above it (whose ``__init__`` runs first)."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    mods = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            mods |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module
            mods.add(base)
            mods |= {f"{base}.{a.name}" for a in node.names}
    out = set()
    for m in mods:
        if m.split(".")[0] not in PACKAGES:
            continue
        parts = m.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)
                if _module_file(".".join(parts[:i])) is not None}
    return out


def import_closure(module: str) -> set[Path]:
    """The project's Python files that ``python -m module`` runs (its packages' ``__init__``
    included)."""
    parts = module.split(".")
    todo = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    seen: set[str] = set()
    while todo:
        m = todo.pop()
        if m in seen or _module_file(m) is None:
            continue
        seen.add(m)
        todo += sorted(_direct(_module_file(m)) - seen)
    return {_module_file(m).relative_to(ROOT) for m in seen}


def _covered(deps: list[str]) -> set[Path]:
    out = set()
    for d in deps:
        p = ROOT / d
        if p.is_dir() and d.split("/")[0] in PACKAGES:
            out |= {f.relative_to(ROOT) for f in p.rglob("*.py")}
        elif d.endswith(".py"):
            out.add(Path(d))
    return out


def stages() -> dict[str, tuple[str, list[str]]]:
    """{stage: (module its command runs, deps)} of dvc.yaml."""
    out = {}
    for name, st in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        st = st.get("do", st)
        m = re.search(r"-m\s+([\w.]+)", st["cmd"])
        out[name] = (m.group(1), list(st["deps"]))
    return out


def test_every_stage_depends_on_exactly_the_code_it_imports():
    bad = []
    for name, (module, deps) in stages().items():
        need, have = import_closure(module), _covered(deps)
        if need - have:
            bad.append(f"{name}: imports but does not depend on {sorted(map(str, need - have))}")
        if have - need:
            bad.append(f"{name}: depends on but never imports {sorted(map(str, have - need))}")
    assert not bad, "\n".join(bad)


def test_the_closure_follows_function_local_and_relative_imports():
    c = import_closure("pipelines.report")
    assert Path("imrnet/evaluate/retrieval.py") in c  # imported inside a function
    assert Path("imrnet/__init__.py") in c and Path("imrnet/data/__init__.py") in c
    assert Path("pipelines/fetch.py") not in c


def as_deps(files: set[Path]) -> list[str]:
    """``files`` as dvc.yaml deps: a folder of ``imrnet`` / ``repro`` / ``pipelines`` wherever
    every ``.py`` file under it is in ``files``, the other files one by one."""
    folders = []
    for d in sorted({p.parent for p in files}, key=lambda d: (len(d.parts), str(d))):
        if len(d.parts) < 2 or any(d.is_relative_to(f) for f in folders):
            continue
        if {f.relative_to(ROOT) for f in (ROOT / d).rglob("*.py")} <= files:
            folders.append(d)
    rest = sorted(f for f in files if not any(f.is_relative_to(d) for d in folders))
    return [str(d) for d in sorted(folders)] + [str(f) for f in rest]


if __name__ == "__main__":  # python tests/test_dvc_deps.py: each stage's code deps
    for stage, (module, _) in stages().items():
        print(f"{stage} ({module}):\n" + "".join(f"  - {d}\n" for d in as_deps(import_closure(module))))
