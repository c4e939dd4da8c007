"""Reading a "why scale" results file without trusting it: its kind and size are checked on
the opened file, under the memory budget (:mod:`..core.budget`), before a byte is read."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from ...core.budget import check_memory
from ...core.validate import given, shorten

# Reading a results file holds its bytes, its text and the parsed objects (measured: the
# parsed document and its runs take ~12x the file's size); the estimate checked against the
# memory budget before a byte is read.
READ_FACTOR = 16


def _refuse(path: Path, why: str) -> ValueError:
    return ValueError(f"path: got {shorten(str(path))}, {why}; expected a results file "
                      "written by `make experiment` (python -m explainer why-scale)")


def read_results_document(path: Path | str) -> dict:
    """The parsed JSON of a results file, read only after its kind and size were checked on
    the opened file: a folder, a FIFO (opened without waiting for a writer), a device such as
    /dev/zero, or a file whose parsing would not fit the memory budget
    (:mod:`..core.budget`) is refused with one line before a byte is read; at most the size
    it had when checked is read. Strict JSON (no NaN or Infinity)."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: got {given(path)}; expected a file name (str or Path)")
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _refuse(path, "which does not exist") from None
    except IsADirectoryError:  # Windows; on POSIX a folder opens, and fstat says so below
        raise _refuse(path, "which is a folder") from None
    except OSError as err:
        raise _refuse(path, f"which cannot be opened ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _refuse(path, "which is a folder")
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device"
                    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            raise _refuse(path, f"which is {kind}, not a regular file")
        check_memory(info.st_size * READ_FACTOR, f"path={shorten(str(path))} "
                     f"({info.st_size:,} bytes)", "reading this results file")
        chunks, left = [], info.st_size  # at most the size checked, even if the file grows
        while left > 0:
            chunk = os.read(fd, min(left, 2**24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _refuse(path, "which is not UTF-8 text") from None
    except _NotStrict as err:
        raise _refuse(path, f"which holds {err} (not strict JSON)") from None
    except json.JSONDecodeError as err:
        raise _refuse(path, f"which is not JSON ({err.msg} at line {err.lineno})") from None
    except RecursionError:
        raise _refuse(path, "which nests too deeply to be a results file") from None


class _NotStrict(ValueError):
    """NaN, Infinity or -Infinity in a file that should be strict JSON."""


def _no_constant(name: str):
    raise _NotStrict(name)
