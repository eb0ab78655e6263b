"""The input walker: SGF files found in files, folders and archives, read with a size cap.

``read_sgf_inputs(paths)`` yields every game of every SGF file found, and an ``SgfError`` for
each file or game that cannot be read, never stopping on a bad one. For work shared out among
processes, ``list_sgf_sources(paths)`` lists the same files with their sizes without reading
them, and ``read_sgf_sources(sources)`` reads any share of that list, opening each archive once.

What is read: a path named explicitly, whatever its name; inside folders (recursively, in sorted
order) ``.sgf``/``.sgfs`` files, ``.sgf.gz`` and the archives ``.zip``, ``.tar``,
``.tar.gz``/``.tgz``, ``.tar.bz2``/``.tbz2`` and ``.tar.xz``/``.txz`` (streamed); inside archives
their ``.sgf``/``.sgfs`` members. The source of an archive member is ``archive:member``. No file
is read beyond ``max_bytes`` (after decompression).
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import Iterable, Iterator, Literal, Union, overload

from .errors import SgfError
from .parser import DEFAULT_MAX_NODES, iter_sgf, parse_sgf
from .record import SgfGame

DEFAULT_MAX_BYTES = 256 << 20  # one SGF file, after decompression
SGF_SUFFIXES = (".sgf", ".sgfs")
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_READ_ERRORS = (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, RuntimeError)
_COMPRESSED = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))

Paths = Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]


@dataclass
class ReadStats:
    """Counts kept by ``read_sgf_inputs``: files read, games yielded, errors
    yielded, files skipped (not SGF or archives), and games with warnings."""

    files: int = 0
    games: int = 0
    errors: int = 0
    skipped: int = 0
    warnings: int = 0


@dataclass(frozen=True)
class SgfSource:
    """One SGF file: a file on disk (``kind`` ``"file"``), a gzip-compressed one (``"gz"``), or
    member number ``index`` (counting the archive's regular files from 0), named ``member``, of the
    ``"tar"`` or ``"zip"`` archive at ``path``. ``size`` is its length in bytes (uncompressed for
    archive members, on disk for ``"gz"``)."""

    kind: str
    path: str
    member: str = ""
    index: int = 0
    size: int = 0

    @property
    def name(self) -> str:
        """The source as errors and records name it: ``path`` or ``archive:member``."""
        return f"{self.path}:{self.member}" if self.member else self.path


# --------------------------------------------------------------------------- public API
def read_sgf_file(path: str | os.PathLike, *, strict: bool = False, max_nodes: int = DEFAULT_MAX_NODES,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> list[SgfGame]:
    """``parse_sgf`` of a file's bytes; the source is the path. Only a regular file of at most
    ``max_bytes`` is read: a device (``/dev/zero``), a FIFO or a folder is refused at once, without
    waiting for a writer or reading without end."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO's open would wait
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SgfError("not a regular file", source=path)
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SgfError(f"cannot read: {e.strerror or e}", source=path) from None
    if len(data) > max_bytes:
        raise SgfError(f"larger than {max_bytes} bytes", source=path)
    return parse_sgf(data, path, strict=strict, max_nodes=max_nodes)


def read_sgf_inputs(paths: Paths, *, strict: bool = False, max_nodes: int = DEFAULT_MAX_NODES,
                    max_bytes: int = DEFAULT_MAX_BYTES,
                    stats: ReadStats | None = None) -> Iterator[tuple[str, Union[SgfGame, SgfError]]]:
    """Read SGF records from files, folders and archives (see the module's docstring).

    Yields ``(source, SgfGame)`` for each game tree and ``(source, SgfError)`` for
    each file or game that cannot be read; never stops on a bad one. Files skipped in
    folders and archives (not SGF) are counted in ``stats.skipped``."""
    if stats is None:
        stats = ReadStats()
    for path, kind in _files(paths, stats):
        if kind is None:
            stats.errors += 1
            yield path, SgfError("no such file or folder", source=path)
            continue
        for source, data in _read(path, kind, max_bytes, stats):
            if isinstance(data, SgfError):
                stats.errors += 1
                yield source.name, data
                continue
            stats.files += 1
            for item in iter_sgf(data, source.name, strict=strict, max_nodes=max_nodes):
                if isinstance(item, SgfError):
                    stats.errors += 1
                else:
                    stats.games += 1
                    if item.warnings:
                        stats.warnings += 1
                yield source.name, item


def list_sgf_sources(paths: Paths) -> Iterator[Union[SgfSource, SgfError]]:
    """Every SGF file that ``read_sgf_inputs(paths)`` would read, in the same order, without
    reading it (archives are read through for their members' names and sizes); an ``SgfError``
    for a path that does not exist and for an archive that cannot be read to its end (the members
    listed before the damage are kept)."""
    for path, kind in _files(paths, ReadStats()):
        if kind is None:
            yield SgfError("no such file or folder", source=path)
            continue
        for source, data in _read(path, kind, 0, ReadStats(), listing=True):
            yield data if isinstance(data, SgfError) else source


def read_sgf_sources(sources: Iterable[SgfSource], *,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[tuple[str, Union[bytes, SgfError]]]:
    """``(source name, bytes)`` of each of ``sources`` (from ``list_sgf_sources``), or ``(name,
    SgfError)`` for one that cannot be read or is larger than ``max_bytes``. Neighbouring members of
    one archive are read in one pass over it; an archive that breaks off gives one error (named by
    the archive) in place of the members after the break."""
    for (kind, path), group in itertools.groupby(sources, key=lambda s: (s.kind, s.path)):
        if kind in ("tar", "zip"):
            reads = _read(path, kind, max_bytes, ReadStats(), only={s.index for s in group})
        else:  # one read per source, also when a file was listed twice
            reads = itertools.chain.from_iterable([_read(path, kind, max_bytes, ReadStats()) for _ in group])
        for source, data in reads:
            yield source.name, data


# --------------------------------------------------------------------------- the walk
def _kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(TAR_SUFFIXES):
        return "tar"
    if low.endswith(".zip"):
        return "zip"
    if low.endswith(".gz"):
        return "gz"
    if low.endswith(SGF_SUFFIXES):
        return "file"
    return None


def _files(paths: Paths, stats: ReadStats) -> Iterator[tuple[str, str | None]]:
    """``(path, kind)`` of each file to read: those named, and those found in the folders named
    (others are counted in ``stats.skipped``); kind ``None`` for a path that does not exist."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        path = os.fsdecode(path)
        if os.path.isdir(path):
            for top, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    kind = _kind(name)
                    if kind is None:
                        stats.skipped += 1
                    else:
                        yield os.path.join(top, name), kind
        elif os.path.exists(path):
            yield path, _kind(path) or "file"
        else:
            yield path, None


@overload
def _read(path: str, kind: str, max_bytes: int, stats: ReadStats, *, only: set[int] | None = None,
          listing: Literal[False] = False) -> Iterator[tuple[SgfSource, Union[bytes, SgfError]]]: ...
@overload
def _read(path: str, kind: str, max_bytes: int, stats: ReadStats, *, only: set[int] | None = None,
          listing: Literal[True]) -> Iterator[tuple[SgfSource, Union[SgfError, None]]]: ...
def _read(path: str, kind: str, max_bytes: int, stats: ReadStats, *, only: set[int] | None = None,
          listing: bool = False) -> Iterator[tuple[SgfSource, Union[bytes, SgfError, None]]]:
    """The SGF sources in one file, each with its bytes or an ``SgfError`` (``None`` when
    ``listing``); ``only`` restricts an archive to the members of those indices. A file that breaks
    off ends with ``(SgfSource(kind, path), SgfError)``."""
    try:
        if kind == "tar":
            yield from _read_tar(path, max_bytes, stats, only, listing)
        elif kind == "zip":
            yield from _read_zip(path, max_bytes, stats, only, listing)
        else:
            source = SgfSource(kind, path, size=os.path.getsize(path))
            if listing:
                yield source, None
            elif kind == "file" and source.size > max_bytes:
                yield source, _too_big(source, max_bytes)
            else:
                with (gzip.open(path, "rb") if kind == "gz" else open(path, "rb")) as f:
                    data = f.read(max_bytes + 1)  # a file that grows, or a device, stops here too
                yield source, data if len(data) <= max_bytes else _too_big(source, max_bytes)
    except _READ_ERRORS as e:
        yield SgfSource(kind, path), SgfError(f"cannot read: {type(e).__name__}: {e}", source=path)


def _too_big(source: SgfSource, max_bytes: int) -> SgfError:
    how = " once decompressed" if source.kind == "gz" else ""
    return SgfError(f"larger than {max_bytes} bytes{how}", source=source.name)


def _read_tar(path: str, max_bytes: int, stats: ReadStats, only: set[int] | None,
              listing: bool) -> Iterator[tuple[SgfSource, Union[bytes, SgfError, None]]]:
    left = len(only) if only is not None else -1
    with _open_stream(path) as f, tarfile.open(fileobj=f, mode="r|") as tf:
        index = -1
        for member in tf:
            if not member.isfile():
                continue
            index += 1
            if only is not None and index not in only:
                continue
            if not member.name.lower().endswith(SGF_SUFFIXES):
                stats.skipped += 1
                continue
            source = SgfSource("tar", path, member.name, index, member.size)
            if listing:
                yield source, None
            elif member.size > max_bytes:
                yield source, _too_big(source, max_bytes)
            else:
                member_file = tf.extractfile(member)
                yield source, member_file.read() if member_file is not None else b""
            left -= 1
            if left == 0:
                return
        # tarfile takes a header cut short for the end of the archive: reading the compressed
        # stream to its end is what tells a file cut short (EOFError) from a whole one.
        while f.read(1 << 16):
            pass


def _open_stream(path: str) -> io.BufferedIOBase:
    """``path`` opened for reading, decompressed when it starts as gzip, bzip2 or xz data does."""
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _COMPRESSED:
        if head.startswith(magic):
            return opener(path, "rb")
    return open(path, "rb")


def _read_zip(path: str, max_bytes: int, stats: ReadStats, only: set[int] | None,
              listing: bool) -> Iterator[tuple[SgfSource, Union[bytes, SgfError, None]]]:
    with zipfile.ZipFile(path) as zf:
        for index, info in enumerate(zf.infolist()):
            if info.is_dir() or (only is not None and index not in only):
                continue
            name = info.filename
            if not info.flag_bits & 0x800:  # not flagged UTF-8: zipfile read it as cp437
                try:
                    name = name.encode("cp437").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            if not name.lower().endswith(SGF_SUFFIXES):
                stats.skipped += 1
                continue
            source = SgfSource("zip", path, name, index, info.file_size)
            if listing:
                yield source, None
            elif info.file_size > max_bytes:
                yield source, _too_big(source, max_bytes)
            else:
                try:
                    data: bytes | SgfError = zf.read(info)
                except (*_READ_ERRORS, NotImplementedError) as e:
                    data = SgfError(f"cannot read: {type(e).__name__}: {e}", source=source.name)
                yield source, data
