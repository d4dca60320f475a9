"""Stream rows out of JSON, JSON lines or CSV files, gzipped or not, with where each came from.

Memory stays flat whatever the file's size: a JSON array is parsed one element at a time
from a sliding buffer, JSON lines and CSV one record at a time. A row that cannot be read
becomes a `RawRow` with its `error`, so the caller can report it and go on.
"""

import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import orjson

FORMATS = ("json", "jsonl", "csv")
CHUNK_SIZE = 64 * 1024

_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_GZIP_MAGIC = b"\x1f\x8b"
_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# An error this close to the buffer's end may only mean the element goes on in the next chunk.
_TRUNCATION_MARGIN = 32
# Log Analytics exports name columns like "TimeGenerated [UTC]".
_COLUMN_SUFFIX = re.compile(r"\s+\[[^\[\]]*\]$")
# A single cell (an alert's Entities) may exceed the csv module's default of 128 KiB.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
# What a broken file (not a missing one) raises while it is read.
_DATA_ERRORS = (UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile, csv.Error)


@dataclass(slots=True)
class RawRow:
    source: str  # the file's name as given, or "<stdin>"
    # "line N" (JSON: where the object starts) or "row N" (CSV: data rows from 1).
    location: str
    data: dict | None  # None when the row could not be read
    error: str | None  # why not


# Twenty digits in a row: a number that may not fit 64 bits (or a long digit string).
# ASCII digits, as in JSON numbers: the regex engine scans for them faster than for `\d`.
_LONG_NUMBER = re.compile(r"[0-9]{20}")


def fast_json(decode: Callable[[str], object]) -> Callable[[str], object]:
    """`decode` (the standard library's, with its rules and error messages), made fast:
    orjson reads what it accepts, which is what `decode` accepts when it yields plain
    JSON; anything else (NaN, huge numbers, lone surrogates, bad JSON) goes to `decode`."""

    def fast(text: str) -> object:
        # orjson reads an integer of 2**64 or more as a float: leave those to `decode`.
        if _LONG_NUMBER.search(text):
            return decode(text)
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return decode(text)

    return fast


def json_kind(value: object) -> str:
    """What a JSON value is, for messages: "an object", "a list", "a number"…"""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def detect_format(name: str, fmt: str | None = None) -> str:
    """The format to read `name` as: `fmt` when given, else by extension (stdin: JSON lines)."""
    choices = "use --format json, jsonl or csv"
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: {choices}")
        return fmt.lower()
    if name == "-":
        return "jsonl"
    lowered = name.lower().removesuffix(".gz")
    for extension, detected in _EXTENSIONS.items():
        if lowered.endswith(extension):
            return detected
    raise ValueError(f"cannot tell the format of {name!r} from its extension: {choices}")


def read_rows(
    name: str,
    fmt: str | None = None,
    *,
    stdin: BinaryIO | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[RawRow]:
    """Every row of `name` ("-": standard input), in order.

    `stdin`, when given, is read instead of opening `name` (which then only names the rows
    and tells the format). Raises ValueError at once for a format it cannot tell; OSError
    (a missing file…) when iteration starts. A broken file ends with an error row instead.
    """
    fmt = detect_format(name, fmt)
    source = "<stdin>" if name == "-" else name
    return _rows(name, fmt, source, stdin, chunk_size)


def _rows(
    name: str, fmt: str, source: str, stdin: BinaryIO | None, chunk_size: int
) -> Iterator[RawRow]:
    with _open_text(name, stdin) as text:
        if fmt == "json":
            yield from _json_array_rows(text, source, chunk_size)
        elif fmt == "jsonl":
            yield from _json_lines_rows(text, source)
        else:
            yield from _csv_rows(text, source)


@contextmanager
def _open_text(name: str, stdin: BinaryIO | None) -> Iterator[io.TextIOBase]:
    """The file (or stdin) as UTF-8 text, gunzipped when it starts with gzip's magic bytes."""
    with ExitStack() as stack:
        # A stream given, or stdin, belongs to the caller: never closed here.
        if stdin is not None:
            binary = stdin
        elif name == "-":
            binary = sys.stdin.buffer
        else:
            binary = stack.enter_context(open(name, "rb"))
        if not hasattr(binary, "peek"):
            binary = io.BufferedReader(binary)
            stack.callback(binary.detach)
        if binary.peek(2)[:2] == _GZIP_MAGIC:
            binary = stack.enter_context(gzip.GzipFile(fileobj=binary, mode="rb"))
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        stack.callback(text.detach)
        yield text


def _data_error(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text ({error.reason})"
    if isinstance(error, EOFError):
        return "the gzip data is cut short"
    if isinstance(error, csv.Error):
        return f"bad CSV: {error}"
    return f"bad gzip data: {error}"


def _object_row(source: str, location: str, value: object) -> RawRow:
    if isinstance(value, dict):
        return RawRow(source, location, value, None)
    return RawRow(source, location, None, f"expected a JSON object, got {json_kind(value)}")


def _json_array_rows(text: io.TextIOBase, source: str, chunk_size: int) -> Iterator[RawRow]:
    buffer = ""
    pos = 0  # where parsing is in `buffer`
    line = 1  # the line of buffer[pos]
    dropped = 0  # characters of buffer[0]'s line dropped from the buffer, for columns
    eof = False

    def read_more(size: int) -> None:
        nonlocal buffer, pos, dropped, eof
        newline = buffer.rfind("\n", 0, pos)
        dropped = pos - newline - 1 if newline >= 0 else dropped + pos
        chunk = text.read(size)
        eof = not chunk
        buffer = buffer[pos:] + chunk
        pos = 0

    def error_at(at: int, message: str) -> RawRow:
        newline = buffer.rfind("\n", 0, at)
        column = at - newline if newline >= 0 else dropped + at + 1
        error_line = line + buffer.count("\n", pos, at)
        return RawRow(source, f"line {error_line}", None, f"bad JSON: {message} (column {column})")

    started = finished = False
    expect_value = True  # else a ',' or the closing ']'
    first = True  # the closing ']' may come where the first value would
    try:
        while True:
            end = _WHITESPACE.match(buffer, pos).end()
            if end != pos:
                line += buffer.count("\n", pos, end)
                pos = end
            if pos == len(buffer):
                if eof:
                    break
                read_more(chunk_size)
                continue
            char = buffer[pos]
            if finished:
                yield error_at(pos, "extra data after the array")
                return
            if not started:
                if char != "[":
                    yield RawRow(source, f"line {line}", None, "expected a JSON array of rows")
                    return
                started = True
                pos += 1
            elif expect_value:
                if first and char == "]":
                    pos += 1
                    finished = True
                    continue
                try:
                    value, end = _DECODER.raw_decode(buffer, pos)
                except json.JSONDecodeError as error:
                    truncated = error.pos >= len(buffer) - _TRUNCATION_MARGIN or (
                        error.msg.startswith("Unterminated string")
                    )
                    if truncated and not eof:
                        # Grow geometrically so a huge element is not re-parsed per chunk.
                        read_more(max(chunk_size, len(buffer) - pos))
                        continue
                    yield error_at(error.pos, error.msg)
                    return
                except ValueError as error:  # an integer of thousands of digits
                    yield error_at(pos, str(error))
                    return
                except RecursionError:
                    yield error_at(pos, "nested too deeply")
                    return
                if end == len(buffer) and not eof:
                    # A number may go on in the next chunk.
                    read_more(chunk_size)
                    continue
                yield _object_row(source, f"line {line}", value)
                line += buffer.count("\n", pos, end)
                pos = end
                expect_value = first = False
            elif char == ",":
                pos += 1
                expect_value = True
            elif char == "]":
                pos += 1
                finished = True
            else:
                yield error_at(pos, "Expecting ',' delimiter")
                return
    except _DATA_ERRORS as error:
        yield RawRow(source, f"line {line}", None, _data_error(error))
        return
    if started and not finished:
        yield error_at(pos, "the array is not closed")


def _json_lines_rows(text: io.TextIOBase, source: str) -> Iterator[RawRow]:
    decode = fast_json(_DECODER.decode)
    number = 0
    try:
        for number, line in enumerate(text, 1):
            if line.isspace():
                continue
            try:
                value = decode(line)
            except json.JSONDecodeError as error:
                message = f"bad JSON: {error.msg} (column {error.colno})"
                yield RawRow(source, f"line {number}", None, message)
                continue
            except ValueError as error:  # an integer of thousands of digits
                yield RawRow(source, f"line {number}", None, f"bad JSON: {error}")
                continue
            except RecursionError:
                yield RawRow(source, f"line {number}", None, "bad JSON: nested too deeply")
                continue
            yield _object_row(source, f"line {number}", value)
    except _DATA_ERRORS as error:
        yield RawRow(source, f"line {number + 1}", None, _data_error(error))


def _column_name(header: str) -> str:
    return _COLUMN_SUFFIX.sub("", header.strip())


def _csv_rows(text: io.TextIOBase, source: str) -> Iterator[RawRow]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    number = 0
    try:
        records = csv.reader(text)
        header = next(records, None)
        if header is None:
            return
        columns = [_column_name(cell) for cell in header]
        width = len(columns)
        # Blank lines are not rows but still count, so "row N" is the N-th record.
        for number, cells in enumerate(records, 1):
            if len(cells) > width:
                message = f"{len(cells)} cells but the header has {width} columns"
                yield RawRow(source, f"row {number}", None, message)
            elif cells:
                data = {column: cell for column, cell in zip(columns, cells, strict=False) if cell}
                yield RawRow(source, f"row {number}", data, None)
    except _DATA_ERRORS as error:
        yield RawRow(source, f"row {number + 1}", None, _data_error(error))
