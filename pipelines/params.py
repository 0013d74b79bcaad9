"""Loading a stage's params section and checking its values: every error names the file, the
key, the value and what is allowed (no KeyError or TypeError reaches a user).

A spec maps each key to (kind, required); kinds:
``str``, ``name`` (a run or dataset name: one folder, `NAME`), ``int>=N``, ``int:A..B``, ``number>=N``, ``number>0``, ``fraction`` (a number in [0, 1]), ``bool``,
``str-list`` (a non-empty list of strings), ``names`` (a list of strings, maybe empty), ``size`` ([width, height], positive integers),
``dict`` (a non-empty mapping), ``mapping`` (maybe empty), ``choice:a|b``, ``int-of:18|50``
(one of those integers); a trailing ``?`` allows null.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from imrnet.settings import as_int, as_number

__all__ = ["ParamsError", "load_section", "check", "NAME", "read_params", "reports_dir",
           "reports_dir_of"]

NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"  # a run or dataset name: one folder, no path


class ParamsError(ValueError):
    """A params file without a section, or a value outside what its key allows."""


def load_section(path: str | Path, name: str) -> dict:
    """``name``'s section of the params file at ``path`` (a mapping), else `ParamsError`."""
    data = read_params(path)
    if name not in data:
        raise ParamsError(f"{path}: no {name!r} section")
    if not isinstance(data[name], dict):
        raise ParamsError(f"{path}: {name} must be a mapping, got {data[name]!r}")
    return data[name]


def _ok(kind: str, v) -> tuple[bool, str]:
    """(is ``v`` of ``kind``, what the kind allows in words)."""
    if kind == "str":
        return isinstance(v, str) and v != "", "a non-empty string"
    if kind == "name":
        return (isinstance(v, str) and re.fullmatch(NAME, v) is not None,
                "a name (letters, digits, '.', '_', '-'; not starting with '.')")
    if kind.startswith("int>="):
        least, n = int(kind[5:]), as_int(v)
        return n is not None and n >= least, f"an integer >= {least}"
    if kind.startswith("int:"):
        lo, hi = (int(x) for x in kind[4:].split(".."))
        n = as_int(v)
        return n is not None and lo <= n <= hi, f"an integer in {lo}..{hi}"
    if kind.startswith("number>="):
        least, n = float(kind[8:]), as_number(v)
        return n is not None and n >= least, f"a finite number >= {least:g}"
    if kind == "number>0":
        n = as_number(v)
        return n is not None and n > 0, "a finite number > 0"
    if kind == "fraction":
        n = as_number(v)
        return n is not None and 0 <= n <= 1, "a number in [0, 1]"
    if kind == "bool":
        return isinstance(v, bool), "true or false"
    if kind == "list":
        return isinstance(v, list), "a list"
    if kind == "names":
        return (isinstance(v, list) and all(isinstance(x, str) for x in v),
                "a list of names")
    if kind == "str-list":
        return (isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v),
                "a non-empty list of names")
    if kind == "size":
        return (isinstance(v, list) and len(v) == 2
                and all((as_int(x) or 0) > 0 for x in v), "[width, height] in pixels")
    if kind == "dict":
        return isinstance(v, dict) and bool(v), "a non-empty mapping"
    if kind == "mapping":
        return isinstance(v, dict), "a mapping"
    if kind.startswith("int-of:"):
        options = [int(x) for x in kind[7:].split("|")]
        return (isinstance(v, int) and not isinstance(v, bool) and v in options,
                f"one of {', '.join(map(str, options))}")
    if kind.startswith("choice:"):
        options = kind[7:].split("|")
        return v in options, f"one of {', '.join(options)}"
    raise AssertionError(f"unknown kind {kind!r}")


def check(where: str, values: dict, spec: dict[str, tuple[str, bool]]) -> dict:
    """``values`` when every key of ``spec`` holds (``where`` prefixes the messages, e.g.
    "params.yaml: extract"); unknown keys are errors too."""
    odd = [k for k in values if not isinstance(k, str)]
    if odd:
        raise ParamsError(f"{where}: keys must be names, got {odd[0]!r}")
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {unknown}; known: {sorted(spec)}")
    for key, (kind, required) in spec.items():
        if key not in values:
            if required:
                raise ParamsError(f"{where}.{key}: missing (it must be {_ok(kind.rstrip('?'), None)[1]})")
            continue
        v = values[key]
        if v is None and kind.endswith("?"):
            continue
        good, allowed = _ok(kind.rstrip("?"), v)
        if not good:
            raise ParamsError(f"{where}.{key} must be {allowed}, got {v!r}")
        if isinstance(v, str) and kind.startswith(("number", "fraction")):
            values[key] = float(v)  # YAML 1.1 reads 1e-4 as a string: the number it means
    return values


def reports_dir(params: dict, path: str | Path = "params.yaml") -> Path:
    """``reports/<profile_name>``: where a profile's metrics, tables, figures, claims and page
    live, so one profile never overwrites another's (issue 13). ``profile_name`` defaults to
    "default" and must be a name (one folder)."""
    name = params.get("profile_name", "default")
    if not isinstance(name, str) or not re.fullmatch(NAME, name):
        raise ParamsError(f"{path}: profile_name must be a name (letters, digits, '.', '_', '-'; "
                          f"not starting with '.'), got {name!r}")
    return Path("reports") / name


def read_params(path: str | Path) -> dict:
    """The whole params file at ``path`` (a mapping of sections), else `ParamsError`."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        hint = (" (params.yaml is generated: run `make params [PROFILE=<name>]`)"
                if Path(path).name == "params.yaml" else "")
        raise ParamsError(f"{path}: no such file{hint}") from None
    except OSError as e:
        raise ParamsError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: not a mapping of sections")
    return data


def reports_dir_of(path: str | Path) -> Path:
    """`reports_dir` of the params file at ``path``."""
    return reports_dir(read_params(path), path)
