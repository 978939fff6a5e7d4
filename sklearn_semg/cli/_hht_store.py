"""``sklearn-semg hht --format zarr``: every matrix into one chunked Zarr
store (:func:`~sklearn_semg.hht.build_hht_store`), with the labels, subjects
and names; a second run resumes a store it stopped writing."""

import shutil

from ._common import CLIError, _echo, _tty
from ._subjects import _subjects
from ._units import STORE_NAME, _hht_transformer, _unit_bases, _unit_windows

#: Matrices per chunk without --chunk-size (build_hht_store's default).
DEFAULT_CHUNK_SIZE = 256


def write_store(args, plan, data):
    """Build (or resume) OUTPUT_DIR/hht.zarr from the units of ``data``."""
    counts = sorted({x.shape[0] for x in data.units})
    if len(counts) > 1:
        raise CLIError(
            f"the recordings have {' and '.join(map(str, counts))} channels; a "
            "store holds one array (n, channels, SIZE, SIZE): convert each "
            "channel count from its own folder (--pattern), or use --format npz "
            "(one file per channel)."
        )
    path = plan.out / STORE_NAME
    sources = [data.names[row["recording"]] for row in data.unit_rows]
    names = _unit_bases(sources, _unit_windows(data))
    labels = [data.labels.get(name, "") for name in sources] if data.labels else None
    groups = _subjects(sources, args, required=False)
    groups = None if groups is None else [str(g) for g in groups]
    written = _prepare(path, names, labels, groups, force=args.force)
    store = _build(args, data.units, path, names, labels, groups)
    # with --force, a store of other settings was rebuilt, not resumed
    _report(store, path, labels, groups, None if args.force else written)
    return 0


def _existing(path):
    """The store at ``path``, opened, or None (absent, or not readable as
    one: build_hht_store then says what it is)."""
    from ..hht import open_hht_store

    if not path.exists():
        return None
    try:
        return open_hht_store(path, allow_incomplete=True)
    except (OSError, ValueError):
        return None


def _prepare(path, names, labels, groups, *, force):
    """``(done, total)`` chunks of an earlier run on the same recordings,
    labels and subjects (resumed), or None. A store of other recordings is
    an error, or removed with ``force``."""
    store = _existing(path)
    if store is None:
        return None
    try:
        stored_labels = store.y.tolist()
    except ValueError:  # a store without labels
        stored_labels = None
    stored_groups = None if store.groups is None else store.groups.tolist()
    if (
        store.names is not None
        and store.names.tolist() == names
        and stored_labels == labels
        and stored_groups == groups
    ):
        total = -(-len(store) // store.chunk_size)
        return total - len(store.missing_chunks), total
    if not force:
        raise CLIError(
            f"{str(path)!r} holds the matrices of other recordings (or other "
            "labels or subjects); pass --force to replace it, or choose another "
            "OUTPUT_DIR (nothing was changed)."
        )
    shutil.rmtree(path)
    return None


def _build(args, units, path, names, labels, groups):
    from ..hht import build_hht_store

    try:
        return build_hht_store(
            units,
            path,
            transformer=_hht_transformer(args, progress=False),
            labels=labels,
            groups=groups,
            names=names,
            chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            overwrite=args.force,
            progress=_tty(),
        )
    except ValueError as exc:  # another store, or one of other settings
        hint = "" if args.force else " (sklearn-semg hht: --force replaces it)"
        raise CLIError(f"{exc}{hint}") from exc
    except OSError as exc:
        raise CLIError(
            f"could not write the store {str(path)!r}: {exc.strerror or exc}; run "
            "the same command again to resume it."
        ) from exc


def _report(store, path, labels, groups, written):
    if written is not None:
        done, total = written
        _echo(
            f"Resumed {str(path)!r}: {done} of {total} chunk(s) were written by an "
            "earlier run."
        )
    n_labelled = 0 if labels is None else sum(bool(label) for label in labels)
    _echo(
        f"Wrote the HHT store {str(path)!r}: {len(store)} matrices of shape "
        f"{tuple(store.X.shape[1:])} in chunks of {store.chunk_size} "
        f"({n_labelled} labelled, {len(store) - n_labelled} unlabelled"
        + (", with their subjects" if groups is not None else "")
        + "); read it with sklearn_semg.hht.open_hht_store."
    )
