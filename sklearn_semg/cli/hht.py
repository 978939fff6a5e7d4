"""``sklearn-semg hht``: a folder of raw text recordings to their HHT
matrices: a folder of ``.npz`` files (one per file, or window, and channel,
with ``index.csv``), or one chunked, resumable Zarr store (``--format zarr``,
:func:`~sklearn_semg.hht.build_hht_store`)."""

from pathlib import Path

from ._common import (
    PROG,
    CLIError,
    _csv_bytes,
    _echo,
    _input_dir,
    _output_file,
    _tty,
    _warn,
    _writable_folder,
)
from ._data import _load_recordings, _read_labels_csv
from ._options import (
    _force_option,
    _n_jobs_option,
    _positive_float,
    _positive_int,
    _subject_options,
    _window_options,
)
from ._recordings import (
    _cut_windows,
    _filter_recordings,
    _usable_recordings,
    _window_samples,
)
from ._units import STORE_NAME, _hht_transformer, _npz_names, _unit_windows


def add_parser(sub, formatter):
    p = sub.add_parser(
        "hht",
        help="raw text recordings -> folder of .npz HHT matrices (or a Zarr store)",
        description=(
            "Compute the Hilbert-Huang matrix of every channel of every text "
            "recording in INPUT_DIR (one sample per line, one channel per column, "
            "whitespace or commas) and write one .npz per file and channel to "
            "OUTPUT_DIR, named after the recording (rec_1.txt -> rec_1.npz, "
            "rec_1_ch2.npz for channel 2 of several), and OUTPUT_DIR/index.csv, "
            "which maps each source file and channel to its .npz file and "
            "label (any label set, from --labels): `sklearn-semg train` and "
            "`predict` read the labels and recordings back from it. With "
            "--window, every recording is cut into windows first: one .npz per "
            "window and channel (rec_1_w0003.npz), index.csv gives each its "
            "source file, start_s and stop_s, and `train` on the folder keeps "
            "the windows of one recording in one fold. With "
            "--muscle (or --index elsewhere) the files follow the six-label "
            "naming scheme instead: {MUSCLE}_{movement}_{gender}_{i}.npz for "
            "labelled files, Test_{i}.npz otherwise. With --format zarr, every "
            f"matrix goes into one chunked store, OUTPUT_DIR/{STORE_NAME} "
            "(sklearn_semg.hht.open_hht_store reads it), with the labels, the "
            "subjects (--subjects, --subject-pattern) and the names; a run "
            "stopped midway resumes where it stopped when run again."
        ),
        formatter_class=formatter,
    )
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder of text recordings")
    p.add_argument(
        "output_dir",
        metavar="OUTPUT_DIR",
        help="folder for the .npz files or the store (created if missing)",
    )
    _data_options(p)
    _output_options(p)
    _n_jobs_option(p, "parallel HHT jobs (-1: all cores)")
    _window_options(
        p,
        what="every recording (after --filter)",
        then=". One .npz per window and channel, named after the recording and "
        "the window's start in steps (rec_1_w0003.npz: the fourth window); "
        "index.csv gives its source file, start_s and stop_s",
    )
    p.add_argument(
        "--filter",
        action="store_true",
        help="filter every recording first with SEMGFilter: zero-phase "
        "20-450 Hz band-pass and a notch at the mains frequency and its "
        "harmonics, 50 or 60 Hz picked from the recordings",
    )
    _subject_options(p, training=False, what=" (with --format zarr: the groups)")
    _force_option(
        p,
        "overwrite existing .npz files and index (with --format zarr: replace a "
        "store of other recordings or settings)",
    )
    p.set_defaults(func=run)


def _data_options(p):
    p.add_argument(
        "--fs",
        type=_positive_float,
        default=1000.0,
        help="sampling rate of the recordings, in Hz",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        default=256,
        help="matrix size: SIZE frequency rows x SIZE time columns",
    )
    p.add_argument("--pattern", default="*.txt", help="glob of the recordings")
    p.add_argument(
        "--labels",
        metavar="CSV",
        default=None,
        help="CSV with columns file,label (any labels; with --muscle, labels "
        "among M_full, M_half, M_invalid, F_full, F_half, F_invalid); other "
        "files are unlabelled",
    )
    p.add_argument(
        "--max-imf",
        type=int,
        default=10,
        help="largest number of IMFs per channel (-1: all)",
    )


def _output_options(p):
    p.add_argument(
        "--format",
        choices=("npz", "zarr"),
        default="npz",
        help="npz: one .npz file per recording (or window) and channel, and "
        f"index.csv; zarr: one chunked Zarr store, OUTPUT_DIR/{STORE_NAME}, "
        "holding every matrix (n, channels, SIZE, SIZE) with labels, groups and "
        'names; resumable; needs zarr (pip install "sklearn-semg[dask]")',
    )
    p.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="with --format zarr: matrices per chunk of the store, the unit of "
        "writing and resuming (default: 256)",
    )
    p.add_argument(
        "--muscle",
        default=None,
        metavar="NAME",
        help="name the files by the six-label scheme, NAME_full_M_001.npz "
        "(default: after their recordings)",
    )
    p.add_argument(
        "--index",
        default=None,
        metavar="CSV",
        help="index file (default OUTPUT_DIR/index.csv)",
    )


def run(args):
    """Raw text recordings to HHT matrices: .npz files, or a Zarr store."""
    plan = _plan(args)
    data = _load_units(args, plan)
    _announce(args, plan, data)
    if plan.zarr:
        from ._hht_store import write_store

        return write_store(args, plan, data)
    matrices = _hht_matrices(args, data.units)
    rows = _write_npz_folder(args, plan, data, matrices)
    _write_index(rows, plan, args)
    return 0


# -- checks before any work ---------------------------------------------------
def _is_output(name, index):
    return name.lower().endswith(".npz") or (index is None and name == "index.csv")


def _plan(args):
    """Every check before any work; the paths and modes of the run."""
    from sklearn.utils import Bunch

    source = _input_dir(args.input_dir, "INPUT_DIR")
    files = sorted(f for f in source.glob(args.pattern) if f.is_file())
    if not files:
        raise CLIError(
            f"INPUT_DIR {str(source)!r} has no file matching --pattern "
            f"{args.pattern!r}; expected text recordings (one column per channel)."
        )
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise CLIError(f"OUTPUT_DIR {str(out)!r} is a file; expected a folder.")
    zarr = args.format == "zarr"
    _check_format_options(args, zarr)
    index = Path(args.index) if args.index else None
    if index is not None:
        _output_file(index, args.force, "--index")
        _writable_folder(index.parent, "--index")
    _writable_folder(out.parent if not out.exists() else out, "OUTPUT_DIR")
    window = _window_samples(args, args.fs)  # bad --window/--step: before any work
    if not zarr and out.is_dir() and not args.force:
        existing = sorted(p.name for p in out.iterdir() if _is_output(p.name, index))
        if existing:
            raise CLIError(
                f"OUTPUT_DIR {str(out)!r} already holds {len(existing)} output "
                f"file(s) (e.g. {existing[0]}); pass --force to replace them, or "
                "choose an empty folder (nothing was written)."
            )
    # Files are named after their recording, labels kept in index.csv (any
    # label set); --muscle or an --index elsewhere ask for the naming scheme
    # whose names carry the six labels (MUSCLE_full_M_001.npz).
    scheme = args.muscle is not None or index is not None
    if args.muscle is not None:
        from ..datasets._base import check_muscle

        try:  # the check save_hht_dir makes, before any work
            check_muscle(args.muscle)
        except ValueError as exc:
            raise CLIError(f"--muscle: {exc}") from None
    return Bunch(
        source=source, out=out, index=index, window=window, scheme=scheme, zarr=zarr
    )


def _check_format_options(args, zarr):
    """The options of one --format only, and zarr itself, before any work."""
    if zarr:
        for option, value in (("--muscle", args.muscle), ("--index", args.index)):
            if value is not None:
                raise CLIError(
                    f"{option} names .npz files and their index; --format zarr "
                    f"writes one store, OUTPUT_DIR/{STORE_NAME}, which holds the "
                    "labels and names itself."
                )
        try:
            import zarr  # noqa: F401
        except ImportError as exc:
            raise CLIError(
                "--format zarr needs the zarr package; install it with "
                f'`pip install "sklearn-semg[dask]"` ({exc}).'
            ) from None
        return
    for option, value in (
        ("--chunk-size", args.chunk_size),
        ("--subjects", args.subjects),
        ("--subject-pattern", args.subject_pattern),
    ):
        if value is not None:
            raise CLIError(
                f"{option} is an option of the store: use it with --format zarr."
            )


# -- the recordings, or their windows -------------------------------------------
def _load_units(args, plan):
    """The units to transform (whole recordings, or their windows), their
    rows and the recordings' names and labels; bad recordings skipped by
    name, with one warning."""
    from sklearn.utils import Bunch

    from ..datasets import NPZ_NAME_LABELS

    allowed = NPZ_NAME_LABELS if plan.scheme else None
    labels = _read_labels_csv(args.labels, allowed=allowed) if args.labels else {}
    bunch = _load_recordings(plan.source, args.pattern, "INPUT_DIR")
    # every recording checked on its own: a bad one is skipped by name
    names, recordings, skipped = _usable_recordings(bunch.filenames, bunch.data)
    filtered, filter_tags = None, None
    if args.filter and recordings:
        # the whole recording, before it is cut: no edge effects per window
        recordings, filtered, filter_tags = _filter_recordings(recordings, args.fs)
    # the units transformed: whole recordings, or their windows
    units, unit_rows = recordings, [{"recording": i} for i in range(len(names))]
    if plan.window is not None and recordings:
        units, table, short = _cut_windows(names, recordings, args.fs, args)
        skipped += short
        unit_rows = table.to_dict("records")
    _report_skipped(skipped, labels, names)
    if not units:
        raise CLIError(
            f"no usable recording in INPUT_DIR {str(plan.source)!r}"
            + (
                f" (none is as long as one --window of {args.window:g} s)."
                if plan.window is not None and recordings
                else "."
            )
        )
    return Bunch(
        names=names,
        units=units,
        unit_rows=unit_rows,
        labels=labels,
        filtered=filtered,
        filter_tags=filter_tags,
    )


def _report_skipped(skipped, labels, names):
    if skipped:
        _warn(
            f"skipped {len(skipped)} recording(s) that cannot be transformed:\n"
            + "\n".join(f"  - {n}: {why}" for n, why in skipped)
        )
    unknown = sorted(set(labels) - set(names))
    if unknown:
        _warn(
            f"{len(unknown)} file(s) named in --labels are not among the "
            f"recordings transformed: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        )


def _announce(args, plan, data):
    n_channels = sorted({x.shape[0] for x in data.units})
    used = sorted({row["recording"] for row in data.unit_rows})
    per = "file and channel"
    if plan.window is not None:
        step = args.window if args.step is None else args.step
        per = (
            f"window and channel ({len(data.units)} windows of {args.window:g} s "
            f"every {step:g} s)"
        )
    what = f"one store, {STORE_NAME}" if plan.zarr else f"one .npz per {per}"
    if plan.zarr and plan.window is not None:
        what += f" ({len(data.units)} windows of {args.window:g} s)"
    _echo(
        f"{PROG} hht: {len(used)} recording(s) from {str(plan.source)!r}, "
        f"{'/'.join(map(str, n_channels))} channel(s), fs {args.fs:g} Hz -> "
        f"{args.size}x{args.size} HHT matrices, {what}; "
        f"{sum(data.names[i] in data.labels for i in used)} labelled."
    )
    if data.filtered is not None:
        _echo(f"Filtered first (SEMGFilter): {data.filtered}.")


def _hht_matrices(args, units):
    """The matrices of every unit: one HHT pass per channel count (the
    recordings may differ)."""
    matrices = [None] * len(units)
    for count in sorted({x.shape[0] for x in units}):
        members = [i for i, x in enumerate(units) if x.shape[0] == count]
        hht = _hht_transformer(args, progress=_tty())
        for i, m in zip(
            members, hht.fit_transform([units[i] for i in members]), strict=True
        ):
            matrices[i] = m
    return matrices


# -- the .npz folder ------------------------------------------------------------
def _write_npz_folder(args, plan, data, matrices):
    """Every matrix into a temporary folder, swapped in at the end: readers
    see the old set or the new one, never a mix. Returns the index rows."""
    import pandas as pd

    from ..datasets._base import write_npz_atomic
    from ..utils._io import atomic_folder, atomic_write

    file_names = _npz_names(
        [data.names[row["recording"]] for row in data.unit_rows],
        [m.shape[0] for m in matrices],
        windows=_unit_windows(data),
    )
    rows, out, index = [], plan.out, plan.index
    try:
        with atomic_folder(
            out, replace=True, keep=lambda n: not _is_output(n, index)
        ) as tmp:
            for u, per_channel in enumerate(matrices):
                for c, matrix in enumerate(per_channel):
                    if plan.scheme:
                        path = _save_by_scheme(args, data, u, tmp, matrix, len(rows))
                    else:
                        path = tmp / file_names[u][c]
                        write_npz_atomic(path, matrix, overwrite=False)
                    rows.append(_index_row(args, data, u, c, path))
            if index is None:
                atomic_write(tmp / "index.csv", _csv_bytes(pd.DataFrame(rows)))
    except OSError as exc:
        where = exc.filename or str(out)
        raise CLIError(
            f"could not write {str(where)!r}: {exc.strerror or exc}; OUTPUT_DIR "
            f"{str(out)!r} is unchanged."
        ) from None
    return rows


def _save_by_scheme(args, data, u, folder, matrix, k):
    """File ``k`` (0-based) of the six-label naming scheme."""
    from ..datasets import save_hht_dir

    label = data.labels.get(data.names[data.unit_rows[u]["recording"]])
    (path,) = save_hht_dir(
        folder,
        matrix[None],
        None if label is None else [label],
        muscle=args.muscle or "SEMG",
        start_index=k + 1,
    )
    return path


def _index_row(args, data, u, c, path):
    """The row of index.csv of channel ``c`` of unit ``u``."""
    unit_row = data.unit_rows[u]
    name = data.names[unit_row["recording"]]
    row = {
        "source_file": name,
        "channel": c + 1,
        "npz_file": path.name,
        "label": data.labels.get(name) or "",
    }
    if "window" in unit_row:  # where in its recording
        row.update({key: unit_row[key] for key in ("window", "start_s", "stop_s")})
    row.update(
        {"n_times": data.units[u].shape[1], "fs": float(args.fs), "size": args.size}
    )
    if data.filtered is not None:
        row["filter"] = data.filter_tags[unit_row["recording"]]
    return row


def _write_index(rows, plan, args):
    import pandas as pd

    from ._common import _write_csv

    index, out = plan.index, plan.out
    if index is not None:
        try:
            _write_csv(pd.DataFrame(rows), index, force=args.force)
        except CLIError as exc:
            raise CLIError(
                f"--index: {exc} (the .npz files are in {str(out)!r})."
            ) from None
    n_test = sum(not r["label"] for r in rows)
    _echo(
        f"Wrote {len(rows)} .npz file(s) to {str(out)!r} ({len(rows) - n_test} "
        f"labelled, {n_test} unlabelled"
        + (
            ", named by the six-label scheme"
            if plan.scheme
            else ", named after their recordings, labels in the index"
        )
        + f") and the index {str(index or out / 'index.csv')!r}."
    )
