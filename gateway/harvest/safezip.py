"""Reading untrusted zip archives (GakuNin RDM RO-Crate exports, .xlsx workbooks) without trusting them.

Refused: anything that is not a zip, members whose path escapes the archive's folder (absolute paths, `..`, drive
letters, backslashes), symbolic links, too many members, and decompression bombs: a member or a whole archive that
would expand beyond a size limit, or a member whose compression ratio is implausible.  Sizes are enforced while reading,
not taken from the (forgeable) directory entries.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["Limits", "UnsafeArchive", "check_archive", "read_members"]


class UnsafeArchive(ValueError):
    """The archive is not a zip, is damaged, or would be unsafe to unpack."""


@dataclass(frozen=True)
class Limits:
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed; text compresses ~10x, a bomb ~1000x
    max_members: int = 10_000
    # ratios of tiny members say nothing (a 2 KB file of spaces compresses 100x); only larger ones are judged
    ratio_floor_bytes: int = 1024 * 1024


DEFAULT_LIMITS = Limits()
_CHUNK = 64 * 1024


def _open(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise UnsafeArchive("the file is empty")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a zip archive, or a truncated one ({exc})") from None


def _safe_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"member {name!r} has a path outside the archive's folder")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise UnsafeArchive(f"member {name!r} has a path outside the archive's folder")
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        raise UnsafeArchive(f"member {name!r} is a symbolic link")
    return path.as_posix()


def check_archive(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[zipfile.ZipInfo]:
    """The members of a safe archive (by their directory entries); UnsafeArchive otherwise."""
    archive = _open(data)
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeArchive(f"{len(infos)} members (at most {limits.max_members})")
    total = 0
    for info in infos:
        _safe_name(info)
        total += info.file_size
        _check_sizes(info.filename, info.file_size, info.compress_size, limits)
    if total > limits.max_total_bytes:
        raise UnsafeArchive(f"would expand to {total} bytes (at most {limits.max_total_bytes})")
    return infos


def _check_sizes(name: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.max_member_bytes:
        raise UnsafeArchive(f"member {name!r} would expand to {size} bytes (at most {limits.max_member_bytes})")
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        raise UnsafeArchive(
            f"member {name!r} has a compression ratio of {size / max(compressed, 1):.0f}:1 "
            f"(at most {limits.max_ratio:.0f}:1): a decompression bomb?"
        )


def read_members(data: bytes, wanted, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The contents of the members whose name satisfies `wanted(name)`, read within the limits."""
    check_archive(data, limits)
    archive = _open(data)
    out: dict[str, bytes] = {}
    total = 0
    for info in archive.infolist():
        name = _safe_name(info)
        if info.is_dir() or not wanted(name):
            continue
        buffer = bytearray()
        try:
            with archive.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    buffer += chunk
                    # the directory entry may lie about the size: count what actually comes out
                    _check_sizes(name, len(buffer), info.compress_size, limits)
                    if total + len(buffer) > limits.max_total_bytes:
                        raise UnsafeArchive(f"would expand beyond {limits.max_total_bytes} bytes")
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise UnsafeArchive(f"member {name!r} cannot be read: {exc}") from None
        total += len(buffer)
        out[name] = bytes(buffer)
    return out
