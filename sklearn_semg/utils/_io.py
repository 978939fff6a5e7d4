"""Atomic writes of files and of sets of files: nothing the user had is lost
or half-written."""

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_folder", "atomic_write"]

#: Flags of a new temporary file: created here or not at all, never through
#: a link, not inherited by child processes, binary on Windows.
_TEMP_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOINHERIT", 0)
    | getattr(os, "O_BINARY", 0)
)


def _temporary(folder, name, suffix, create):
    """Create ``folder/.{name}.{random}{suffix}`` with ``create(path)``, which
    fails if the name exists; a new random part is tried then.

    The file or folder is created with ``0666``/``0777`` and the system
    applies the process umask, as to any other output: no umask is read or
    changed (``os.umask`` sets it for the whole process, other threads
    included).
    """
    for _ in range(100):
        path = Path(folder) / f".{name}.{secrets.token_hex(4)}{suffix}"
        try:
            return path, create(path)
        except FileExistsError:
            continue
    raise FileExistsError(
        f"could not create a temporary {suffix!r} entry for {name!r} in "
        f"{str(folder)!r}: 100 names were taken."
    )


def atomic_write(path, write, *, overwrite=True):
    """Call ``write(binary_file)`` on a temporary file, then move it to ``path``.

    The temporary file lives in the same folder (so the final rename is
    atomic), is named ``.{name}.*.tmp`` (so folder loaders never pick it up),
    is created with the usual permissions (``0666`` less the umask, applied by
    the system when the file is created, not ``mkstemp``'s ``0600``) and is
    removed if anything fails, so an interrupted write never leaves a
    truncated file in place of a good one.

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
    tmp, fd = _temporary(
        path.parent, path.name, ".tmp", lambda p: os.open(p, _TEMP_FLAGS, 0o666)
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
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


@contextlib.contextmanager
def atomic_folder(target, *, replace, keep=None):
    """Write a set of files as one: into a temporary sibling of ``target``,
    swapped into place at the end.

    Readers of ``target`` see the old set or the new set, never a mix; a
    failure (an exception, a full disk, Ctrl-C) before the end leaves
    ``target`` as it was and removes the temporary folder.

    Parameters
    ----------
    target : str or path-like
        The folder the files belong in; its parent must exist.
    replace : bool
        If ``target`` holds files already, replace them (``--force``);
        otherwise it must be absent or empty.
    keep : callable or None, default=None
        ``keep(name)`` is True for the entries of an existing ``target`` that
        are not outputs (a user's own files): they are carried over to the new
        folder, never lost. None keeps nothing.

    Yields
    ------
    folder : pathlib.Path
        The temporary folder to write into.
    """
    target = Path(target)
    # 0777 less the umask, like any folder the package creates
    temp, _ = _temporary(
        target.parent, target.name, ".tmp", lambda p: os.mkdir(p, 0o777)
    )
    try:
        yield temp
        if not target.exists():
            os.replace(temp, target)
        else:
            entries = list(target.iterdir())
            if entries and not replace:
                raise FileExistsError(
                    f"{str(target)!r} is not empty (it holds {len(entries)} "
                    "entries); not replaced."
                )
            _swap(target, temp, keep)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def _swap(target, new, keep):
    """Replace the folder ``target`` by ``new``, carrying over the entries of
    ``target`` that ``keep`` names; on any failure, put everything back."""
    aside = Path(
        tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old")
    )
    old = aside / target.name
    os.replace(target, old)  # from here on, target is absent until the swap
    carried = []
    try:
        for entry in list(old.iterdir()):
            if keep is not None and keep(entry.name):
                os.replace(entry, new / entry.name)
                carried.append(entry.name)
        os.replace(new, target)
    except BaseException:  # the swap is the last step: target is still absent
        for name in carried:
            os.replace(new / name, old / name)
        os.replace(old, target)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
