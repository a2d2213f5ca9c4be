"""The backup archive: one tar file (gzip-compressed unless its name ends in `.tar`)
holding the database, the evidence files and `manifest.json`, which gives the size and
SHA-256 of every other member.

An archive is written under a temporary name beside its final one and takes its final
name only once it is complete and on disk (`ArchiveWriter.commit`): a backup that fails or
is killed half-way leaves at most a `.partial` file, never an archive that looks complete.
An archive is trusted only once it has been read to its end and every member matched the
manifest (`verify`), and each member is checked again as it is extracted (`extract`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

FORMAT = "tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVIDENCE_PREFIX = "evidence/"
_CHUNK = 1024 * 1024
_MAX_MANIFEST = 64 * 1024 * 1024
_MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


class ArchiveDamaged(Exception):
    """The archive is not a complete, intact Tracker backup; the message says what is wrong."""


def safe_name(name: str) -> bool:
    """A member name we write and accept: at most one folder, no `..`, nothing absolute."""
    return bool(_MEMBER_NAME.fullmatch(name)) and ".." not in name


class _HashingReader:
    """Reads through to a file, hashing what passes."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.fileobj.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArchiveWriter:
    """Members are added one by one; `commit(manifest)` adds the manifest last and gives
    the archive its name. Used as a context manager, an error before `commit` removes the
    partial file. The archive is readable by its owner only: it holds password hashes."""

    def __init__(self, path: Path, *, mtime: float):
        self.path = path
        self.mtime = mtime
        self.members: dict[str, dict] = {}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                   suffix=".partial")  # mode 0600
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")
        gzip = not path.name.endswith(".tar")
        try:
            self._tar = tarfile.open(  # noqa: SIM115 — closed by commit() or abort()
                fileobj=self._file, mode="w:gz" if gzip else "w",
                **({"compresslevel": 6} if gzip else {}))
        except BaseException:
            self._file.close()
            self._tmp.unlink()
            raise
        self._done = False

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        if not safe_name(name) or name in self.members or name == MANIFEST:
            raise ValueError(f"bad or repeated member name {name!r}")
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(self.mtime)
        return info

    def add_file(self, name: str, source: Path) -> dict:
        """Add the file `source` as `name`; returns its size and SHA-256."""
        with open(source, "rb") as f:
            reader = _HashingReader(f)
            self._tar.addfile(self._info(name, os.fstat(f.fileno()).st_size), reader)
        entry = {"size": reader.size, "sha256": reader.digest.hexdigest()}
        self.members[name] = entry
        return entry

    def commit(self, manifest: dict) -> Path:
        """Write the manifest (with every member's checksum), flush the archive to disk and
        give it its final name — refusing to replace an existing file."""
        manifest = {**manifest, "members": dict(sorted(self.members.items()))}
        data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(self.mtime)
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        try:
            os.link(self._tmp, self.path)  # fails if the name is taken: never replaces
        except FileExistsError:
            self.abort()
            raise
        self._tmp.unlink()
        _fsync_dir(self.path.parent)
        self._done = True
        return self.path

    def abort(self) -> None:
        self._done = True
        with contextlib.suppress(Exception):  # it is being thrown away
            self._tar.close()
        self._file.close()
        self._tmp.unlink(missing_ok=True)


def _open(path: Path) -> tarfile.TarFile:
    return tarfile.open(path, "r:*")


def _unreadable(exc: Exception) -> ArchiveDamaged:
    return ArchiveDamaged(f"the archive cannot be read to its end ({exc}): it is truncated, "
                          "damaged or not a Tracker backup")


def verify(path: Path) -> dict:
    """Read the whole archive once and return its manifest, if every member is a regular
    file the manifest names, with the size and SHA-256 it gives, and every member the
    manifest names is there. Raises `ArchiveDamaged` otherwise."""
    found: dict[str, dict] = {}
    manifest = None
    try:
        with _open(path) as tar:
            for info in tar:
                if not info.isfile() or not (safe_name(info.name) or info.name == MANIFEST):
                    raise ArchiveDamaged(f"unexpected member {info.name!r}")
                if info.name in found or (info.name == MANIFEST and manifest is not None):
                    raise ArchiveDamaged(f"member {info.name!r} appears twice")
                source = tar.extractfile(info)
                if info.name == MANIFEST:
                    manifest = _load_manifest(source.read(_MAX_MANIFEST + 1))
                    continue
                reader = _HashingReader(source)
                while reader.read(_CHUNK):
                    pass
                found[info.name] = {"size": reader.size, "sha256": reader.digest.hexdigest()}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _unreadable(exc) from exc
    if manifest is None:
        raise ArchiveDamaged("the archive has no manifest.json: it is incomplete or not a "
                             "Tracker backup")
    expected = manifest["members"]
    missing = sorted(set(expected) - set(found))
    if missing:
        raise ArchiveDamaged(f"{len(missing)} member(s) named in the manifest are missing: "
                             + ", ".join(missing[:10]))
    unexpected = sorted(set(found) - set(expected))
    if unexpected:
        raise ArchiveDamaged("member(s) not named in the manifest: " + ", ".join(unexpected[:10]))
    damaged = sorted(name for name in expected if found[name] != expected[name])
    if damaged:
        raise ArchiveDamaged(f"checksum mismatch in {len(damaged)} member(s): "
                             + ", ".join(damaged[:10]))
    return manifest


def _load_manifest(data: bytes) -> dict:
    if len(data) > _MAX_MANIFEST:
        raise ArchiveDamaged("manifest.json is too large")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ArchiveDamaged(f"manifest.json is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveDamaged("manifest.json is not a Tracker backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveDamaged(f"backup format version {manifest.get('format_version')!r} is "
                             f"not known to this Tracker (it reads version {FORMAT_VERSION})")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(v, dict) and set(v) == {"size", "sha256"} for v in members.values()):
        raise ArchiveDamaged("manifest.json has no valid list of members")
    return manifest


def extract(path: Path, manifest: dict, destination: Callable[[str], Path | None]) -> None:
    """Write each member for which `destination(name)` gives a path there, checking its
    size and SHA-256 against the manifest once more (the file may have changed since
    `verify`). Raises `ArchiveDamaged` on any difference."""
    try:
        with _open(path) as tar:
            for info in tar:
                target = destination(info.name) if info.name != MANIFEST else None
                if target is None:
                    continue
                if not info.isfile() or not safe_name(info.name):
                    raise ArchiveDamaged(f"unexpected member {info.name!r}")
                with open(target, "xb") as out:
                    reader = _HashingReader(tar.extractfile(info))
                    while chunk := reader.read(_CHUNK):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                got = {"size": reader.size, "sha256": reader.digest.hexdigest()}
                if manifest["members"].get(info.name) != got:
                    raise ArchiveDamaged(f"checksum mismatch in {info.name!r}")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise _unreadable(exc) from exc
