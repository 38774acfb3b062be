"""User files as input: the one place that opens them, and what messages may quote from them.

Owns the rules every reader of a user file keeps (scenario and sweep YAML, `ge` CSV tables):
only a regular file is read (a FIFO would block forever, a device never end), its size is
checked before it is read and at most its limit is read, text must be UTF-8 without NUL bytes,
and a value quoted back in a message is shortened. Every refusal is an `InputFileError` naming
the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any


class InputFileError(ValueError):
    """A user file cannot be read as input (missing, not a regular file, too large, binary)."""


def read_bytes(path: str | Path, *, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    The file is opened without blocking and checked (`fstat`) before anything is read: a FIFO,
    socket, device or folder is refused at once, a larger file by its size.

    Raises:
        InputFileError: not found, a folder, not a regular file, unreadable, or too large.
    """
    name = shorten(path, 200)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(f"{name}: {what} not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a folder, expected a {what}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputFileError(f"{name}: cannot read the {what} ({reason})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputFileError(f"{name}: is a folder, expected a {what}")
        if not stat.S_ISREG(mode):
            raise InputFileError(f"{name}: not a regular file (a pipe, socket or device); "
                                 f"expected a {what}")
        if os.fstat(fd).st_size > limit:
            raise InputFileError(f"{name}: larger than {size_text(limit)}; {limit_hint(what)}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # the file object owns it now
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputFileError(f"{name}: cannot read the {what} ({exc.strerror or exc})") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:  # grew while we read
        raise InputFileError(f"{name}: larger than {size_text(limit)}; {limit_hint(what)}")
    return data


def decode(data: bytes, where: str, expected: str) -> str:
    """UTF-8 text without NUL bytes; else an `InputFileError` naming the line and byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputFileError(f"{where}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x} "
                             f"at offset {exc.start}); save the file as UTF-8") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise InputFileError(f"{where}, line {line}: binary content (a NUL byte); expected "
                             f"{expected}")
    return text


def size_text(limit: int) -> str:
    """A byte limit for messages: 1000 kB, 64 MB."""
    return f"{limit // 1000} kB" if limit < 10_000_000 else f"{limit // 1_000_000} MB"


def limit_hint(what: str) -> str:
    """Why a file is refused by its size."""
    if "table" in what:
        return f"a {what} is at most that (about a million rows)"
    return f"a {what} is a short text"


def shorten(value: Any, limit: int = 60) -> str:
    """Text of a value for a message: at most `limit` characters, control characters escaped."""
    text = str(value)
    if not text.isprintable():
        text = text.encode("unicode_escape", "replace").decode("ascii", "replace")
    return text if len(text) <= limit else text[:limit - 3] + "..."


MAX_TABLE_BYTES = 64_000_000  # assumption: a sector-level flows table of 1-2 million rows
MAX_COLUMNS = 32  # a flows or shock table has 3-4 columns; a few more are tolerated
MAX_CELL = 100  # characters: country codes, sector names and numbers are far shorter


def read_table(path: str | Path, *, what: str = "CSV table",
               limit: int = MAX_TABLE_BYTES) -> Any:
    """A CSV file as a pandas DataFrame of text (codes like NA stay codes), within the limits:
    a regular file of at most `limit` bytes of UTF-8, at most `MAX_COLUMNS` columns, no
    column name or cell longer than `MAX_CELL` characters.

    Raises:
        InputFileError: naming the file (and the row and column where a limit is broken).
    """
    import io

    import pandas as pd

    name = shorten(path, 200)
    text = decode(read_bytes(path, what=what, limit=limit), name, "CSV text")
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{name}: not a CSV table ({shorten(exc, 200)})") from None
    if len(table.columns) > MAX_COLUMNS:
        raise InputFileError(f"{name}: {len(table.columns)} columns; a {what} has at most "
                             f"{MAX_COLUMNS}")
    for col in table.columns:
        if len(str(col)) > MAX_CELL:
            raise InputFileError(f"{name}: a column name of {len(str(col))} characters "
                                 f"({shorten(col)}); expected at most {MAX_CELL}")
        lengths = table[col].str.len().to_numpy()
        if len(lengths) and lengths.max() > MAX_CELL:
            row = int(lengths.argmax())
            raise InputFileError(f"{name}: row {row + 1}: {shorten(col)} holds "
                                 f"{int(lengths[row])} characters ({shorten(table[col].iloc[row])})"
                                 f"; expected at most {MAX_CELL}")
    return table
