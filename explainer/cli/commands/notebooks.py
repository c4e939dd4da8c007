"""`python -m explainer notebooks DIR`: copy the lessons and the classroom apps into a folder.

    python -m explainer notebooks my-lessons           # a new or empty folder
    jupyter lab my-lessons                             # pip install 'block35-explainer[lab]'
    python -m explainer notebooks my-lessons --force   # a folder that holds other files

The lessons travel in the package (the wheel's ``explainer/_lessons``; in a checkout, its
``notebooks/``): DIR gets the seven lessons, DIR/apps the two classroom apps, as stored (no
outputs: run them). A folder that is not empty is refused without ``--force``; with it, only
the lessons' own files are replaced and the others stay. Nothing is ever written through a
symlink: DIR, DIR/apps or a lesson's file that is one is refused, ``--force`` or not. Every
check runs before the first file is written, and the files are copied into a temporary folder
first, then moved in, so a failed copy changes nothing. TensorFlow is not loaded.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from ...core.validate import shorten

PACKAGE = Path(__file__).resolve().parents[2]  # explainer/
# where an install keeps the lessons: a wheel's package data, else the checkout beside it
LESSON_FOLDERS = (PACKAGE / "_lessons", PACKAGE.parent / "notebooks")
PATTERNS = ("*.ipynb", "apps/*.ipynb")
PATH_LIMIT = 200  # characters of a path shown in an error


def lessons_folder() -> Path:
    """The folder this install reads the lessons from (the wheel's, else the checkout's)."""
    for folder in LESSON_FOLDERS:
        if (folder / "00_start_here.ipynb").is_file():
            return folder
    raise ValueError(f"notebooks: this install holds no lessons (looked in "
                     f"{', '.join(str(f) for f in LESSON_FOLDERS)}); expected an install "
                     "from the package's wheel, or a checkout")


def lesson_files(folder: Path | None = None) -> list[Path]:
    """The lessons and apps, relative to their folder: ``00_start_here.ipynb`` ...,
    ``apps/scale_explorer.ipynb`` ..."""
    folder = folder or lessons_folder()
    return [path.relative_to(folder) for pattern in PATTERNS
            for path in sorted(folder.glob(pattern)) if path.is_file()]


def add_arguments(parser) -> None:
    parser.add_argument("dir", metavar="DIR",
                        help="the folder to copy the lessons into (made if missing)")
    parser.add_argument("--force", action="store_true",
                        help="copy into a folder that is not empty, replacing the lessons' own "
                             "files there (never through a symlink)")


def needs_tensorflow(_args) -> bool:
    return False


def _kind(mode: int) -> str:
    return ("a symlink" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a file" if stat.S_ISREG(mode) else "not a regular file")


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ValueError(f"dir: {shorten(str(path))} cannot be read ({err.strerror}); "
                         "expected a folder to copy the lessons into") from None


def _refuse(text: str, why: str, expected: str = "a new or empty folder") -> ValueError:
    return ValueError(f"dir: got {shorten(text, PATH_LIMIT)}, {why}; expected {expected}")


def check(args) -> None:
    """DIR: a new folder, an empty one, or with ``--force`` one whose lesson names are free
    or regular files; never a symlink, at any of the names written. Raises ValueError (one
    line, exit 2) before anything is written."""
    text = args.dir
    if not text or "\0" in text or not text.strip():
        raise _refuse(text, "which is not a folder name")
    target = Path(text)
    own = _lstat(target)
    if own is None:
        return
    if stat.S_ISLNK(own.st_mode):
        raise _refuse(text, "a symlink (nothing is written through a symlink)",
                      "a folder that is not a symlink")
    if not stat.S_ISDIR(own.st_mode):
        raise _refuse(text, f"which is {_kind(own.st_mode)}")
    if not os.access(target, os.W_OK | os.X_OK):
        raise _refuse(text, "a folder that is not writable", "a writable folder")
    entries = os.listdir(target)
    if entries and not args.force:
        raise _refuse(text, f"a folder that holds {len(entries)} entr"
                            f"{'y' if len(entries) == 1 else 'ies'}",
                      "a new or empty folder, or --force to replace the lessons' files in it")
    names = [Path("apps"), *lesson_files()]
    for name in names:
        mode = _lstat(target / name)
        wanted = stat.S_ISDIR if name == Path("apps") else stat.S_ISREG
        if mode is not None and not wanted(mode.st_mode):
            raise _refuse(str(target / name), f"which is {_kind(mode.st_mode)}"
                          + (" (nothing is written through a symlink)"
                             if stat.S_ISLNK(mode.st_mode) else ""),
                          "a folder" if name == Path("apps") else "a regular file or no file")


def _umask_mode(mode: int) -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mode & ~mask


def _stage(source: Path, files: list[Path], staging: Path) -> None:
    """Copy ``files`` from ``source`` into ``staging`` (a new, private folder)."""
    for name in files:
        (staging / name).parent.mkdir(exist_ok=True)
        shutil.copyfile(source / name, staging / name)
        os.chmod(staging / name, _umask_mode(0o666))


def run(args) -> int:
    source = lessons_folder()
    files = lesson_files(source)
    target = Path(args.dir)
    if target.exists():  # empty, or --force (check() refused it otherwise): file by file
        staging = Path(tempfile.mkdtemp(prefix=".lessons.", dir=target))
        try:
            _stage(source, files, staging)
            (target / "apps").mkdir(exist_ok=True)
            for name in files:  # os.replace replaces the name itself, never through a link
                os.replace(staging / name, target / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        target.absolute().parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name[:100]}.",
                                        dir=target.absolute().parent))
        try:
            _stage(source, files, staging)
            os.chmod(staging, _umask_mode(0o777))
            os.rename(staging, target)  # refuses a name that appeared meanwhile
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    lessons = sum(len(name.parts) == 1 for name in files)
    print(f"copied {lessons} lessons and {len(files) - lessons} apps to {target}: "
          f"jupyter lab {target}")
    return 0
