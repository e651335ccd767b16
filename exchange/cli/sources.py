"""The input of ``exchange import``, read as a stream: files, a directory of them, or stdin, each a
bundle (or list, or one object) or JSON lines, turned into one lazy sequence of objects so a file of
any size imports in bounded memory.

An input that fits in ``WHOLE`` bytes is parsed at once with orjson, so a damaged document is named by
the parser's own line and column; orjson is also about four times as fast as ijson (a 30,000-indicator
bundle is about 18 MB, decision 0009). A larger one streams: JSON lines line by line (orjson, the line
number exact), a document with ijson (its C backend), which yields the items of ``objects`` (or of a
top-level list) one at a time but cannot say where a syntax error is, so its error names the last
object read before it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

from exchange.core.errors import ExchangeError
from exchange.stix.prepare import objects_of

SUFFIXES = (".json", ".jsonl", ".ndjson")
WHOLE = 32 * 1024 * 1024  # parsed objects take ~5x their JSON: ~160 MB at most in memory
_CHUNK = 1024 * 1024


class MissingSourceError(Exception):
    """The source is neither a file, a directory nor '-'."""


class Reader:
    """Objects of every source in stream order, noting as it goes where each source's objects start
    (to name a rejected object by file and position), what could not be parsed, and how many bytes
    have been read (for the progress bar)."""

    def __init__(self, whole: int = WHOLE) -> None:
        self.whole = whole
        self.starts: list[tuple[int, str]] = []
        self.errors: list[str] = []
        self.count = 0
        self._done = 0  # bytes of the sources already finished
        self._current: _Counted | None = None

    @property
    def bytes_read(self) -> int:
        return self._done + (self._current.count if self._current else 0)

    def objects(self, sources: Iterator[tuple[str, BinaryIO]]) -> Iterator[Any]:
        for origin, stream in sources:
            self.starts.append((self.count, origin))
            self._current = _Counted(stream)
            for obj in self._parse(self._current, origin):
                self.count += 1
                yield obj
            self._done += self._current.count
            self._current = None

    def _parse(self, stream: _Counted, origin: str) -> Iterator[Any]:
        head = stream.read(self.whole)
        if len(head) < self.whole:
            yield from self._parse_whole(head, origin)
            return
        stream.replay(head)
        first_line = head.split(b"\n", 1)[0]
        if len(first_line) < len(head) and _is_json(first_line):
            yield from self._json_lines(_lines(stream), origin)
        else:
            yield from self._document(stream, origin, head.lstrip()[:1])

    def _parse_whole(self, data: bytes, origin: str) -> Iterator[Any]:
        """A JSON document (bundle, list, object) or JSON lines. A file that is not valid JSON is JSON
        lines only if its first line is a JSON document of its own; otherwise (a truncated bundle, say)
        the parser's own line and column are what the user needs to find the damage."""
        try:
            yield from objects_of(orjson.loads(data))
            return
        except orjson.JSONDecodeError as exc:
            whole = exc
        except ExchangeError as exc:
            self.errors.append(f"{origin}: {exc.description}")
            return
        lines = [line for line in data.splitlines() if line.strip()]
        if len(lines) < 2 or not _is_json(lines[0]):
            self.errors.append(f"{origin}: invalid JSON at line {whole.lineno}, column {whole.colno}: {whole.msg}")
            return
        yield from self._json_lines(iter(data.splitlines()), origin)

    def _json_lines(self, lines: Iterator[bytes], origin: str) -> Iterator[Any]:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield from objects_of(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                self.errors.append(f"{origin}: invalid JSON at line {number}, column {exc.colno}: {exc.msg}")
            except ExchangeError as exc:
                self.errors.append(f"{origin}: line {number}: {exc.description}")

    def _document(self, stream: _Counted, origin: str, first: bytes) -> Iterator[Any]:
        """A bundle or envelope (``{"objects": [...]}``) or a list of objects, larger than ``whole``."""
        prefix = "item" if first == b"[" else "objects.item"
        start = self.count
        try:
            yield from ijson.items(stream, prefix, use_float=True)
        except ijson.JSONError as exc:
            reason = str(exc).split("\n", 1)[0]
            self.errors.append(f"{origin}: invalid JSON after object {self.count - start}: {reason}")
            return
        if self.count == start and first != b"[":
            self.errors.append(f"{origin}: a document this large must be a bundle: no 'objects' array found")


def open_sources(source: str) -> tuple[Iterator[tuple[str, BinaryIO]], int | None]:
    """(name, binary stream) of each input, opened one at a time, and their size in bytes if it is
    known before reading them (not for stdin); raises ``MissingSourceError`` at once."""
    if source == "-":
        return iter([("stdin", sys.stdin.buffer)]), None
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise MissingSourceError(source)
    return _opened(files), sum(file.stat().st_size for file in files)


def _opened(files: list[Path]) -> Iterator[tuple[str, BinaryIO]]:
    for file in files:
        with file.open("rb") as stream:
            yield str(file), stream


class _Counted:
    """A binary stream that counts the bytes it hands out and can hand a head it read out again."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._head = b""
        self.count = 0

    def replay(self, head: bytes) -> None:
        self._head = head
        self.count -= len(head)

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = (self._head, b"") if size < 0 else (self._head[:size], self._head[size:])
        else:
            data = self._stream.read(size)
        self.count += len(data)
        return data


def _lines(stream: _Counted) -> Iterator[bytes]:
    rest = b""
    while chunk := stream.read(_CHUNK):
        *lines, rest = (rest + chunk).split(b"\n")
        yield from lines
    if rest:
        yield rest


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True
