"""Per-recording cache of decompositions and of what the HHT steps read off them.

The ``memory`` parameter of the steps that decompose (a joblib ``Memory`` or
a folder path, as :class:`sklearn.pipeline.Pipeline` takes) keys every result
by the bytes of one recording and every setting that changes that result, so
that a search over downstream parameters, the folds of a cross-validation and
several methods on the same recordings decompose each recording once in
total. Lookups are per recording (not per call, as ``Pipeline(memory=...)``
caches), because the folds of a cross-validation hold different subsets of
the same recordings.

Entries are ``.npz`` files (no pickle: nothing in the cache can execute code)
under ``<location>/sklearn_semg/<kind>/<settings digest>/``, written to a
temporary name and renamed into place, so a killed run never leaves a
half-written entry, and concurrent processes writing the same entry write the
same bytes. An unreadable entry counts as missing and is rewritten. The most
recently used entries are also kept in memory (at most :data:`MEMO_BYTES`), so
that a repeated search in one process does not even read the files.
"""

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import joblib
import numpy as np
from sklearn.utils.validation import check_memory

from .._version import __version__

__all__ = ["MEMO_BYTES", "RecordingCache", "recording_key"]

#: Bytes of cached results kept in memory per process (least recently used
#: entries are dropped first).
MEMO_BYTES = 256 * 2**20

#: Bumped whenever a cached kind would hold different numbers for the same
#: settings (a change of algorithm), so that older entries are not reused.
CACHE_VERSION = 1

_memo = OrderedDict()
_memo_bytes = 0
_memo_lock = threading.Lock()


def _memo_get(key):
    with _memo_lock:
        value = _memo.get(key)
        if value is not None:
            _memo.move_to_end(key)
        return value


def _memo_put(key, value):
    global _memo_bytes
    size = sum(a.nbytes for a in value)
    if size > MEMO_BYTES // 8:
        return
    with _memo_lock:
        if key in _memo:
            return
        _memo[key] = value
        _memo_bytes += size
        while _memo_bytes > MEMO_BYTES:
            _, dropped = _memo.popitem(last=False)
            _memo_bytes -= sum(a.nbytes for a in dropped)


def recording_key(recording, seeds, settings_digest):
    """Digest of one recording's bytes (with its noise seeds, if any) and of
    the settings that decompose it: the name of its decomposition."""
    h = hashlib.blake2b(digest_size=20)
    h.update(settings_digest.encode())
    h.update(repr((recording.shape, recording.dtype.str)).encode())
    h.update(np.ascontiguousarray(recording).tobytes())
    if seeds is not None:
        h.update(np.asarray(seeds, dtype=np.int64).tobytes())
    return h.hexdigest()


def settings_digest(kind, settings):
    """Digest of a kind of result and the settings that produce it."""
    return joblib.hash((kind, CACHE_VERSION, __version__, settings))


class RecordingCache:
    """Results of one kind, for one set of settings, keyed per recording.

    Parameters
    ----------
    memory : None, str, path-like or joblib.Memory
        Where to keep the entries; ``None`` (or a ``Memory`` without a
        location) disables caching.
    kind : str
        What is cached (``"emd"``, ``"hht"``, ``"hht_features"``).
    settings : object
        Everything besides the recording that changes the result; hashed
        with :func:`joblib.hash`.
    """

    def __init__(self, memory, kind, settings):
        if isinstance(memory, os.PathLike):
            memory = os.fspath(memory)
        location = check_memory(memory).location
        self.digest = settings_digest(kind, settings)
        self.folder = (
            None
            if location is None
            else Path(location) / "sklearn_semg" / kind / self.digest
        )

    @property
    def enabled(self):
        return self.folder is not None

    def _path(self, key):
        return self.folder / key[:2] / f"{key}.npz"

    def __contains__(self, key):
        if not self.enabled:
            return False
        return _memo_get((self.folder, key)) is not None or self._path(key).is_file()

    def get(self, key):
        """The cached arrays of ``key`` (a tuple), or None."""
        if not self.enabled:
            return None
        value = _memo_get((self.folder, key))
        if value is not None:
            return value
        try:
            with (
                open(self._path(key), "rb") as f,
                np.load(f, allow_pickle=False) as npz,
            ):
                n = int(npz["n"])
                value = tuple(npz[f"a{i}"] for i in range(n))
        except Exception:  # missing or unreadable (a damaged zip raises many
            return None  # kinds of error): computed, and rewritten, again
        _memo_put((self.folder, key), value)
        return value

    def put(self, key, value):
        """Store the arrays ``value`` (a tuple) under ``key``; returns it."""
        value = tuple(value)
        if not self.enabled:
            return value
        _memo_put((self.folder, key), value)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, n=len(value), **{f"a{i}": a for i, a in enumerate(value)})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return value
