"""What every command shares: the error type, output lines, warnings, checks
of input and output paths made before any long work, and atomic writes."""

import contextlib
import sys
import warnings
from pathlib import Path

from ..utils._io import atomic_write

PROG = "sklearn-semg"


class CLIError(Exception):
    """A user error: ``main`` prints it as one line and exits with ``status``.

    Parameters
    ----------
    message : str
        What is wrong, naming the option or file, what was expected and,
        where one is obvious, the fix.
    status : int, default=2
        The exit status.
    """

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


# -- output -----------------------------------------------------------------
def _echo(*args):
    print(*args, flush=True)


def _warn(message):
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _reported_warnings():
    """Show library warnings (skipped files...) as ``warning:`` lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for w in caught:
        if issubclass(w.category, UserWarning):
            _warn(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _tty():
    """True when standard error is a terminal: progress bars are shown only
    there (in a log file they are thousands of carriage returns)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _use_agg():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


# -- paths checked before any work ----------------------------------------------
def _input_dir(path, what):
    """An existing folder, or a CLIError that names it."""
    folder = Path(path)
    if not folder.exists():
        raise CLIError(f"{what} {str(folder)!r} does not exist; expected a folder.")
    if not folder.is_dir():
        raise CLIError(f"{what} {str(folder)!r} is a file; expected a folder.")
    return folder


def _input_file(path, what):
    file = Path(path)
    if not file.exists():
        raise CLIError(f"{what} {str(file)!r} does not exist.")
    if not file.is_file():
        raise CLIError(f"{what} {str(file)!r} is a folder; expected a file.")
    return file


def _output_file(path, force, what):
    """Check, before any work, that ``path`` may be written."""
    file = Path(path)
    if file.is_dir():
        raise CLIError(f"{what} {str(file)!r} is a folder; expected a file name.")
    if file.exists() and not force:
        raise CLIError(
            f"{what} {str(file)!r} already exists; pass --force to overwrite it "
            "(nothing was written)."
        )
    if file.parent.exists() and not file.parent.is_dir():
        raise CLIError(f"the folder of {what} {str(file.parent)!r} is a file.")
    return file


def _writable_folder(folder, what):
    """Check, before any work, that files can be created in ``folder``
    (created if missing)."""
    import tempfile

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CLIError(
            f"{what}: cannot write in {str(folder)!r} ({exc.strerror or exc}); "
            "nothing was done."
        ) from None


@contextlib.contextmanager
def _cache_folder(cache_dir):
    """The ``memory`` of a command: ``--cache-dir`` (kept), or a temporary
    folder removed at the end."""
    if cache_dir is not None:
        folder = Path(cache_dir)
        if folder.exists() and not folder.is_dir():
            raise CLIError(f"--cache-dir {str(folder)!r} is a file; expected a folder.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CLIError(
                f"--cache-dir {str(folder)!r} cannot be created "
                f"({exc.strerror or exc})."
            ) from None
        yield str(folder)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sklearn-semg-cache-") as folder:
        yield folder


# -- atomic writes ------------------------------------------------------------
def _atomic_write(path, write, *, force):
    """:func:`~sklearn_semg.utils._io.atomic_write`, with the CLI's errors:
    an output that appeared meanwhile, a full disk, a permission..."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(
            f"could not create the folder {str(path.parent)!r} for {str(path)!r}: "
            f"{exc.strerror or exc}."
        ) from exc
    try:
        return atomic_write(path, write, overwrite=force)
    except FileExistsError:
        raise CLIError(
            f"{str(path)!r} appeared while writing; not overwritten (pass --force "
            "to replace it)."
        ) from None
    except OSError as exc:
        raise CLIError(
            f"could not write {str(path)!r}: {exc.strerror or exc} (nothing was "
            "written there)."
        ) from exc


def _csv_bytes(frame):
    """A writer of ``frame`` as CSV, for :func:`_atomic_write`."""

    def write(f):
        f.write(frame.to_csv(index=False).encode("utf-8"))

    return write


def _write_csv(frame, path, *, force):
    return _atomic_write(path, _csv_bytes(frame), force=force)


def _save_figure(fig, path, *, force):
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        _atomic_write(
            path,
            lambda f: fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight"),
            force=force,
        )
    finally:
        plt.close(fig)
    return Path(path)
