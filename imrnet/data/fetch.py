"""Getting a dataset onto disk: download with resume and SHA-256, safe archive extraction,
linking a local copy.

Archives from the internet are untrusted: members with absolute paths, ``..`` components,
symlinks or hardlinks are refused before anything is written (tar additionally goes through
``tarfile``'s ``filter="data"``), extraction goes to a temporary folder that is renamed into
place only when complete, and a download that fails its checksum leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import stat
import subprocess
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["FetchError", "download", "safe_extract", "extract_archives", "link_local", "sha256_of",
           "LIMITS", "check_limits"]

CHUNK = 1 << 20


class FetchError(ValueError):
    """A download or archive that cannot be used; the message names the URL or file."""


class _Empty:
    """Stands in for a response when a Range request found the partial file complete."""

    status = 206
    headers: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n=-1):
        return b""


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dst: str | os.PathLike, sha256: str, *, timeout: float = 60.0,
             progress: bool = False) -> Path:
    """Download ``url`` to ``dst``, resuming a previous partial download (``dst.part``) with an
    HTTP Range request, and verify its SHA-256. On a mismatch the partial file is deleted and
    `FetchError` raised; ``dst`` only ever appears complete and verified."""
    dst = Path(dst)
    if dst.is_file() and sha256_of(dst) == sha256.lower():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp_cm = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not have:  # 416: the partial file is already complete
            raise FetchError(f"{url}: download failed ({e}); rerun to resume from {part}") from None
        resp_cm = None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise FetchError(f"{url}: download failed ({e}); rerun to resume from {part}") from None
    expected = None
    try:
        with (resp_cm or _Empty()) as resp:
            status = getattr(resp, "status", 200)
            if have and status != 206:  # the server ignored the range: start again
                have = 0
            total = resp.headers.get("Content-Length")
            total = (int(total) + have) if total else None
            expected = total
            from tqdm import tqdm

            with open(part, "ab" if have else "wb") as out, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, disable=not progress,
                    desc=dst.name) as bar:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise FetchError(f"{url}: download failed ({e}); rerun to resume from {part}") from None
    if expected is not None and part.stat().st_size < expected:  # the connection dropped
        raise FetchError(f"{url}: connection closed after {part.stat().st_size} of {expected} "
                         f"bytes; rerun to resume from {part}")
    got = sha256_of(part)
    if got != sha256.lower():
        part.unlink()
        raise FetchError(f"{url}: SHA-256 mismatch (got {got}, expected {sha256}); the partial "
                         "file was removed")
    os.replace(part, dst)
    return dst


def _check_member(archive: Path, name: str) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise FetchError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    if ".." in p.parts:
        raise FetchError(f"{archive}: member {name!r} escapes the target with '..'; refusing")


LIMITS = {"max_members": 15_000, "max_ratio": 100}
"""Default caps on what one archive may expand to (params ``fetch.archive_limits`` raise them):
``max_members`` entries (UCF101.rar has 13,421; a Kinetics-400 shard about 1,000), and
``max_ratio`` times the archive's own size once past `SMALL` bytes (videos barely compress;
a decompression bomb expands a thousandfold). Whatever the caps, the expanded size must fit in
the free space of the target's disk."""
SMALL = 1 << 20


def check_limits(limits: dict | None) -> dict:
    """The caps in force: `LIMITS` updated with ``limits`` (positive integers); ValueError
    naming a bad key or value."""
    out = dict(LIMITS)
    for key, value in (limits or {}).items():
        if key not in LIMITS:
            raise ValueError(f"archive_limits.{key}: unknown (known: {sorted(LIMITS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"archive_limits.{key} must be a positive integer, got {value!r}")
        out[key] = value
    return out


def _members(archive: Path, limits: dict | None = None, target: Path | None = None) -> list[str]:
    """Check every member (paths, link types) and the caps (`LIMITS`: member count, expanded
    size against the archive's size and the free disk) before extraction; return the names."""
    caps = check_limits(limits)
    try:
        members = _list_members(archive)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise FetchError(f"{archive}: damaged archive ({e})") from None
    if len(members) > caps["max_members"]:
        raise FetchError(f"{archive}: {len(members)} members, more than the cap of "
                         f"{caps['max_members']}; if you trust it, raise "
                         "fetch.archive_limits.max_members")
    _check_size(archive, sum(size for _, size in members), caps, target=target)
    return [name for name, _ in members]


def _check_size(archive: Path, expanded: int, caps: dict, *, measured: bool = False,
                target: Path | None = None) -> None:
    packed = max(1, archive.stat().st_size)
    what = "expands to" if measured else "declares"
    if expanded > SMALL and expanded > caps["max_ratio"] * packed:
        raise FetchError(f"{archive}: {what} {expanded} bytes, {expanded / packed:.0f}x its own "
                         f"{packed} bytes (cap {caps['max_ratio']}x: a decompression bomb?); if "
                         "you trust it, raise fetch.archive_limits.max_ratio")
    if not measured:
        disk = Path(target or archive.parent).absolute()
        while not disk.exists():
            disk = disk.parent
        free = shutil.disk_usage(disk).free
        if expanded > free:
            raise FetchError(f"{archive}: needs {expanded} bytes to extract, {free} are free on "
                             f"the disk of {disk}")


def _tree_bytes(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file())


def _list_members(archive: Path) -> list[tuple[str, int]]:
    """(name, declared expanded size) of every member, each checked (paths and link types)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = []
            for info in z.infolist():
                _check_member(archive, info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise FetchError(f"{archive}: member {info.filename!r} is a symlink; refusing")
                names.append((info.filename, info.file_size))  # zipfile stops at this size
            return names
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            names = []
            for m in t.getmembers():
                _check_member(archive, m.name)
                if m.issym() or m.islnk():
                    raise FetchError(f"{archive}: member {m.name!r} is a {'symlink' if m.issym() else 'hardlink'}; refusing")
                if not (m.isfile() or m.isdir()):
                    raise FetchError(f"{archive}: member {m.name!r} is a special file; refusing")
                names.append((m.name, m.size))
            return names
    if archive.suffix.lower() == ".rar":
        return _rar_members(archive)
    raise FetchError(f"{archive}: not a zip, tar or rar archive")


def _rar_tool() -> list[str]:
    if shutil.which("lsar") and shutil.which("unar"):
        return ["unar"]
    if shutil.which("bsdtar"):
        return ["bsdtar"]
    raise FetchError("extracting .rar (UCF-101, HMDB-51) needs unar or bsdtar: "
                     "apt-get install unar   (or: apt-get install libarchive-tools)")


def _rar_members(archive: Path) -> list[tuple[str, int]]:
    tool = _rar_tool()
    cmd = ["lsar", "-j", str(archive)] if tool == ["unar"] else ["bsdtar", "-tvf", str(archive)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise FetchError(f"{archive}: cannot list the rar archive ({res.stderr.strip()[:200]})")
    names = []
    if tool == ["unar"]:
        import json

        for entry in json.loads(res.stdout).get("lsarContents", []):
            name = entry.get("XADFileName", "")
            if entry.get("XADIsLink") or entry.get("XADIsHardLink"):
                raise FetchError(f"{archive}: member {name!r} is a link; refusing")
            size = entry.get("XADFileSize", 0)
            names.append((name, size if isinstance(size, int) else 0))
    else:  # ls -l style: the mode's first letter says l(ink) or h(ardlink); size: 5th field
        for line in res.stdout.splitlines():
            if line[:1] in ("l", "h") or " link to " in line:
                raise FetchError(f"{archive}: member {line.split()[-1]!r} is a link; refusing")
            fields = line.split(None, 8)
            names.append((fields[-1], int(fields[4]) if len(fields) > 4 and fields[4].isdigit() else 0))
    for name, _ in names:
        _check_member(archive, name)
    return names


def safe_extract(archive: str | os.PathLike, dst: str | os.PathLike, *,
                 limits: dict | None = None) -> Path:
    """Extract ``archive`` (zip, tar[.gz|.bz2|.xz], rar) into ``dst`` after checking every
    member and the caps (`LIMITS`, raised by ``limits``); written to ``dst.partial`` first and
    renamed, so ``dst`` is all or nothing."""
    archive, dst = Path(archive), Path(dst)
    if not archive.is_file():
        raise FetchError(f"{archive}: no such archive")
    if dst.resolve() in archive.resolve().parents or dst.resolve() == archive.resolve():
        raise FetchError(f"{archive}: lies inside the destination {dst}, which extraction "
                         "replaces; keep archives beside it (fetch keeps them in downloads/)")
    caps = check_limits(limits)
    _members(archive, caps, dst.parent)
    tmp = _fresh_temp(dst.with_name(dst.name + ".partial"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        else:
            tool = _rar_tool()
            cmd = (["unar", "-q", "-o", str(tmp), "-D", str(archive)] if tool == ["unar"]
                   else ["bsdtar", "-xf", str(archive), "-C", str(tmp)])
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise FetchError(f"{archive}: rar extraction failed ({res.stderr.strip()[:200]})")
            _check_size(archive, _tree_bytes(tmp), caps, measured=True)  # rar sizes: declared only
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FetchError(f"{archive}: extraction failed ({e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _install(tmp, dst)


def _merge(src: Path, dst: Path) -> None:
    """Move the contents of ``src`` into ``dst`` (folders merged; a clash of files is an error)."""
    dst.mkdir(parents=True, exist_ok=True)
    for child in sorted(src.iterdir()):
        if child.name == MARK:  # one archive's part of a larger extraction: dst has its own
            child.unlink()
            continue
        target = dst / child.name
        if target.is_dir() and child.is_dir() and not child.is_symlink():
            _merge(child, target)
        elif target.exists() or target.is_symlink():
            raise FetchError(f"{child.name}: present in two archives ({target})")
        else:
            os.replace(child, target)
    src.rmdir()


def extract_archives(archives, dst: str | os.PathLike, *, nested: bool = False,
                     limits: dict | None = None) -> Path:
    """Extract several archives side by side into ``dst`` (as the official downloads are laid
    out: UCF101.rar beside the split zip; HMDB-51's videos beside its split files), all or
    nothing; each archive under the caps (`LIMITS`, raised by ``limits``). With ``nested``,
    archives found inside (HMDB-51's per-class ``<class>.rar``) are
    extracted in place, their members checked like the outer ones, and removed."""
    dst = Path(dst)
    for a in archives:
        if dst.resolve() in Path(a).resolve().parents:
            raise FetchError(f"{a}: lies inside the destination {dst}, which extraction "
                             "replaces; keep archives beside it (fetch keeps them in downloads/)")
    tmp = _fresh_temp(dst.with_name(dst.name + ".assembling"))
    try:
        for k, archive in enumerate(archives):
            _merge(safe_extract(archive, tmp / f".archive-{k}", limits=limits), tmp)
        while nested:
            inner = sorted(p for p in tmp.rglob("*") if p.is_file() and p.suffix.lower() in
                           (".rar", ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz"))
            if not inner:
                break
            for p in inner:
                _merge(safe_extract(p, p.with_name(f".{p.name}.d"), limits=limits), p.parent)
                p.unlink()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _install(tmp, dst)


MARK = ".imrnet-fetch"  # in every folder fetch extracts: what it may replace or remove


def _ours(folder: Path) -> bool:
    return (folder / MARK).is_file() and not (folder / MARK).is_symlink()


def _fresh_temp(tmp: Path) -> Path:
    """An empty working folder ``tmp`` holding the mark; a leftover of an earlier fetch (it
    holds the mark) is removed, anything else there is refused, never deleted."""
    if tmp.is_symlink() or (tmp.exists() and not (tmp.is_dir() and _ours(tmp))):
        raise FetchError(f"{tmp}: exists and fetch did not make it; move it away")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / MARK).write_text("written by imrnet.data.fetch; the folder may be replaced by it\n")
    return tmp


def _install(tmp: Path, dst: Path) -> Path:
    """Move a complete extraction into place, replacing only an earlier one of fetch's (it
    holds the mark; a symlink there is only unlinked): a folder or file fetch did not make is
    refused, not deleted."""
    if dst.is_symlink():
        dst.unlink()
    elif dst.exists():
        if not (dst.is_dir() and _ours(dst)):
            shutil.rmtree(tmp, ignore_errors=True)
            raise FetchError(f"{dst}: exists and fetch did not extract it (no {MARK} in it); "
                             "move it away, or use it as it is with kind: local")
        shutil.rmtree(dst)
    (tmp / MARK).write_text("written by imrnet.data.fetch; the folder may be replaced by it\n")
    os.replace(tmp, dst)
    return dst


def link_local(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Point ``dst`` at an existing local copy of a dataset with a symlink.

    Never deletes data: if ``dst`` already is (or resolves to) ``src``, nothing happens; an
    existing symlink is replaced; an existing real folder or file at ``dst`` is an error.
    """
    src, dst = Path(src).resolve(), Path(dst)
    if not src.is_dir():
        raise FetchError(f"{src}: local dataset root does not exist")
    if dst.exists() and dst.resolve() == src:
        return dst
    if src == dst.parent.resolve() or src in dst.parent.resolve().parents:
        raise FetchError(f"{dst}: lies inside the local dataset {src}; a link there would "
                         "loop back into it")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink():
        dst.unlink()
    elif dst.exists():
        raise FetchError(f"{dst}: exists and is not a link to {src}; move it away or point "
                         "the params at it")
    dst.symlink_to(src, target_is_directory=True)
    return dst
