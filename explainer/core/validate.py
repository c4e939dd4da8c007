"""Argument checks shared by the engine modules.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the argument, what was
given and what is expected, so that a learner who mistypes gets a sentence, not a stack of
TensorFlow internals. This module imports numpy only: the CLI uses it before TensorFlow loads.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import pathlib
import stat
import tempfile
from collections.abc import Iterable

import numpy as np

VARIANTS = ("v1", "v2")
ACTIVATIONS = ("relu", "relu6", None)
DEVICES = ("auto", "cpu", "gpu")


def shorten(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters: an error never echoes a huge input."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit - 15]}... ({len(text):,} chars)"


def given(value: object) -> str:
    """How an error message shows what it was given: shortened repr and type."""
    return f"{shorten(value)} ({type(value).__name__})"


def error_text(err: BaseException) -> str:
    """An exception as one line: its type and message, without the empty ``name:`` field
    TensorFlow's eager errors end with ("... [Op:Mul] name: ")."""
    return f"{type(err).__name__}: {str(err).removesuffix(' name: ')}"


def check_choice(name: str, value: object, choices: tuple) -> object:
    """The choice ``value`` names: a string lowercased ("RELU6" -> "relu6"; "none" and None
    -> None) if that is one of ``choices``; otherwise a ValueError naming ``name``."""
    return _choice(name, value, choices)


def _choice(name: str, value: object, choices: tuple) -> object:
    """:func:`check_choice`'s work, shared by the named checks (``check_variant`` ...): each
    of them is one check of one argument, not two."""
    if isinstance(value, str) or value is None:
        key = value.lower() if isinstance(value, str) else None
        if key == "none":
            key = None
        if key in choices:
            return key
    shown = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name}: got {given(value)}; expected one of {shown}")


def check_variant(variant: object) -> str:
    """'v1' (facenet Inception-ResNet-v1) or 'v2' (tf-slim / keras.applications v2)."""
    return _choice("variant", variant, VARIANTS)  # type: ignore[return-value]


def check_activation(activation: object) -> str | None:
    """'relu', 'relu6' or None (no activation after the add)."""
    return _choice("activation", activation, ACTIVATIONS)  # type: ignore[return-value]


def check_device(device: object) -> str:
    """'auto', 'cpu' or 'gpu'."""
    return _choice("device", device, DEVICES)  # type: ignore[return-value]


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_scale(scale: object, name: str = "scale", example: str = "0.17") -> float:
    """A real number that is finite in float32 (Python or numpy scalar, or a 0-d array).

    The block computes in float32, so 1e39 (inf there) is refused like inf and NaN; so is an
    integer too large for a float. Returns a Python float.
    """
    return _scale(scale, name, example)


def _scale(scale: object, name: str, example: str) -> float:
    """:func:`check_scale`'s work, shared with :func:`check_scales` (one check of one list)."""
    if isinstance(scale, np.ndarray) and scale.ndim == 0:
        scale = scale.item()
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{name}: got {given(scale)}; expected a real number such as {example}")
    try:
        value = float(scale)
    except OverflowError:  # e.g. 10**400
        raise ValueError(f"{name}: got {shorten(scale)}, too large for a float; expected a "
                         f"finite number such as {example}") from None
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise ValueError(f"{name}: got {value!r}, which is not finite in float32 (the block's "
                         f"dtype, largest {FLOAT32_MAX:.4g}); expected a finite number such as "
                         f"{example}")
    return value


def check_scales(scales: object, name: str = "scales", each: str | None = None) -> np.ndarray:
    """A non-empty sequence of finite scales, returned as a float64 array. An error names the
    item ``each`` (e.g. "scale"), or ``name[i]`` by default."""
    if isinstance(scales, (str, bytes)) or not isinstance(scales, (Iterable, np.ndarray)):
        raise TypeError(f"{name}: got {given(scales)}; "
                        "expected a list of numbers like [0, 0.17, 1]")
    # iterate the items themselves: np.ravel of a mixed list would turn 0.1 into '0.1'
    items = np.ravel(scales).tolist() if isinstance(scales, np.ndarray) else list(scales)
    values = [_scale(s, each or f"{name}[{i}]", "0.17") for i, s in enumerate(items)]
    if not values:
        raise ValueError(f"{name}: got an empty list; expected at least one scale")
    return np.asarray(values, dtype=np.float64)


MAX_WHOLE = 10**30  # the largest whole-number argument: products of a few stay finite floats


def check_positive_int(name: str, value: object, minimum: int = 1,
                       maximum: int = MAX_WHOLE) -> int:
    """A whole number from ``minimum`` to ``maximum`` (bools refused).

    The upper bound (10**30 by default) is checked before any arithmetic, so that
    10**400 is one sentence rather than an OverflowError from a float conversion downstream.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: got {given(value)}; expected a whole number >= {minimum}")
    if int(value) < minimum:
        raise ValueError(f"{name}: got {shorten(int(value))}; expected a whole number >= "
                         f"{minimum}")
    if int(value) > maximum:
        raise ValueError(f"{name}: got {shorten(int(value))}, which is too large; expected a "
                         f"whole number from {minimum} to {maximum:,}")
    return int(value)


def check_items(name: str, items: object, kind: type, made_by: str) -> list:
    """A list or tuple (or a dict's values) of ``kind`` objects, as a formatting helper takes
    from ``made_by``; anything else is a TypeError naming ``name``, not an AttributeError."""
    if not isinstance(items, (list, tuple, dict)):
        raise TypeError(f"{name}: got {given(items)}; expected what {made_by} returns")
    values = list(items.values()) if isinstance(items, dict) else list(items)
    for i, item in enumerate(values):
        if not isinstance(item, kind):
            raise TypeError(f"{name}[{i}]: got {given(item)}; expected a {kind.__name__}, as "
                            f"{made_by} returns")
    return values


PATH_CHARS = 160  # a path in a message: long enough to show its file name


def _refuse_path(name: str, text: str, why: str) -> ValueError:
    return ValueError(f"{name}: got {shorten(text, PATH_CHARS)}, which cannot be written ({why}); "
                      "expected a regular file in a writable folder")


def _read_only(mode: int, path: os.PathLike | str) -> bool:
    """A file nobody may write (no write bit: root's ``os.access`` says yes to everything), or
    one this user may not write."""
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path,
                                                                                   os.W_OK)


def check_output_path(name: str, path: object, suffix: str | None = None, *,
                      replace: bool = True) -> pathlib.Path:
    """A path a writer may fill, checked before any work: a regular file (existing or not) in
    a writable folder. Refused with one sentence naming ``name``: a folder or a name ending in
    '/', a symlink (the file it names is never written through it, whatever its ending), a
    FIFO, a device (/dev/null, /dev/full) or any other non-regular file, a read-only file,
    paths under /proc or /sys, a name component over 255 bytes, a missing or unwritable
    folder, another ending than ``suffix`` (e.g. '.onnx') when given, and, with
    ``replace=False``, any existing file (the CLI's ``--force`` says the user named it as
    replaceable). Never opens the path (a FIFO would block). Returns the resolved path."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: got {given(path)}; expected a file name (str or Path)")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise ValueError(f"{name}: got {shorten(text)}; expected a file name")
    if text.endswith(("/", os.sep)):
        raise _refuse_path(name, text, "the name ends in a folder separator")
    absolute = pathlib.Path(os.path.abspath(os.path.expanduser(text)))
    for part in absolute.parts:
        if len(os.fsencode(part)) > 255:
            raise _refuse_path(name, text, f"a name of {len(os.fsencode(part))} bytes; the "
                                           "longest allowed is 255")
    try:
        resolved = absolute.resolve()
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise _refuse_path(name, text, f"it cannot be resolved: {shorten(str(err))}") \
            from None
    for root in ("/proc", "/sys"):
        for candidate in (absolute, resolved):
            if candidate == pathlib.Path(root) or pathlib.Path(root) in candidate.parents:
                raise _refuse_path(name, text, f"{root} is the kernel's, not a place for files")
    try:  # the name itself, not what a symlink names: a link is never written through
        own = os.lstat(absolute).st_mode
    except FileNotFoundError:
        own = None
    except OSError as err:
        raise _refuse_path(name, text, f"it cannot be read: {err.strerror}") from None
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise _refuse_path(name, text, f"it cannot be read: {err.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise _refuse_path(name, text, "it is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        raise _refuse_path(name, text, f"it is {kind}, not a regular file")
    if own is not None and stat.S_ISLNK(own):
        target = "nothing" if mode is None else shorten(str(resolved), PATH_CHARS // 2)
        raise _refuse_path(name, text, f"it is a symlink to {target}, and no file is ever "
                                       "written through a symlink")
    if suffix is not None and resolved.suffix.lower() != suffix.lower():
        raise ValueError(f"{name}: got {shorten(text)}; expected a file name ending in {suffix}")
    folder = resolved.parent
    if not folder.is_dir():
        raise _refuse_path(name, text, f"its folder {shorten(str(folder))} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse_path(name, text, f"its folder {shorten(str(folder))} is not writable")
    if mode is not None and _read_only(mode, resolved):
        raise _refuse_path(name, text, "it is read-only")
    if mode is not None and not replace:
        raise ValueError(f"{name}: got {shorten(text, PATH_CHARS)}, which exists; expected a "
                         "new file name, or --force to replace it")
    return resolved


def _umask() -> int:
    """This process' umask: read where Linux says it (setting it to read it would race other
    threads creating files), else set and restored."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _exists_error(name: str, target: pathlib.Path) -> ValueError:
    return ValueError(f"{name}: got {shorten(str(target), PATH_CHARS)}, which appeared while it "
                      "was written; expected a new file name, or --force to replace it")


def _put_in_place(name: str, tmp: str, target: pathlib.Path, replace: bool) -> None:
    """Move the finished temporary file to ``target``. What is there now is checked again
    (a symlink or read-only file may have appeared meanwhile); without ``replace`` the move
    is a hard link, which fails if any name appeared, so nothing is ever replaced."""
    try:
        now = os.lstat(target).st_mode
    except FileNotFoundError:
        now = None
    if now is not None:
        if not replace:
            raise _exists_error(name, target)
        if not stat.S_ISREG(now):
            raise _refuse_path(name, str(target), "it is no longer a regular file")
        if _read_only(now, target):
            raise _refuse_path(name, str(target), "it is read-only")
        os.chmod(tmp, stat.S_IMODE(now))  # a replaced file keeps its mode
        os.replace(tmp, target)  # replaces the name: never writes through a link
        return
    os.chmod(tmp, 0o666 & ~_umask())  # a new file: what open() would give it
    if replace:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic, and refuses any name that appeared meanwhile
    except FileExistsError:
        raise _exists_error(name, target) from None
    except OSError:  # a file system without hard links: the check above is the guard
        if os.path.lexists(target):
            raise _exists_error(name, target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(name: str, path: object, suffix: str | None = None, *, replace: bool = True):
    """Yield a temporary path beside ``path`` for a writer to fill; on success it takes
    ``path``'s place at once, so a failed write leaves no partial file.

    ``path`` is checked by :func:`check_output_path` (never a symlink, nor a read-only file;
    with ``replace=False`` never an existing file), and again just before the move. A new file
    gets the mode the umask gives (0666 & ~umask); a replaced one keeps its own. An ``OSError``
    while writing or moving removes the temporary file and becomes one ``OSError`` line naming
    ``name`` (the CLI ends it with exit 74). Other errors remove the temporary file and pass
    through.
    """
    target = check_output_path(name, path, suffix, replace=replace)
    tmp = None
    try:  # the temporary name keeps the ending: writers such as savefig read the format from it
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.",
                                   suffix=target.suffix[:20])
        os.close(fd)
        yield pathlib.Path(tmp)
        _put_in_place(name, tmp, target, replace)
    except OSError as err:
        with contextlib.suppress(OSError, TypeError):
            os.unlink(tmp)
        raise OSError(f"{name}: could not write {shorten(str(target), PATH_CHARS)}: "
                      f"{err.strerror or shorten(str(err))}") from None
    except BaseException:
        with contextlib.suppress(OSError, TypeError):
            os.unlink(tmp)
        raise


def write_atomic(name: str, path: object, data: str | bytes, suffix: str | None = None, *,
                 replace: bool = True) -> pathlib.Path:
    """Write ``data`` to ``path`` all or nothing (see :func:`atomic_output`); returns the
    resolved path."""
    target = check_output_path(name, path, suffix, replace=replace)
    with atomic_output(name, path, suffix, replace=replace) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
    return target
