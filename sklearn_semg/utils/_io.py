"""Atomic file writes: nothing the user had is lost or half-written."""

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write, *, overwrite=True):
    """Call ``write(binary_file)`` on a temporary file, then move it to ``path``.

    The temporary file lives in the same folder (so the final rename is
    atomic), is named ``.{name}.*.tmp`` (so folder loaders never pick it up),
    gets the usual permissions (``0666`` less the umask, not ``mkstemp``'s
    ``0600``) and is removed if anything fails, so an interrupted write never
    leaves a truncated file in place of a good one.

    Parameters
    ----------
    path : str or path-like
        Target file; its folder must exist.
    write : callable
        Receives the open binary file.
    overwrite : bool, default=True
        If False, an existing ``path`` is never replaced, not even one that
        appeared while writing: the file is hard-linked into place, which
        fails when the name exists.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileExistsError
        ``overwrite=False`` and ``path`` exists.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(
                    f"{str(path)!r} already exists (or appeared while writing); "
                    "not overwritten."
                ) from None
            except OSError:  # a file system without hard links
                if path.exists():
                    raise FileExistsError(
                        f"{str(path)!r} already exists; not overwritten."
                    ) from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
