"""The units the ``hht`` command transforms (whole recordings, or windows):
their names, as ``.npz`` files or as the rows of a store, and the
transformer its options ask for."""

from pathlib import Path

from ._common import CLIError

#: The store ``hht --format zarr`` writes in OUTPUT_DIR.
STORE_NAME = "hht.zarr"


def _hht_transformer(args, progress):
    """The HHTTransformer of the hht command's options."""
    from ..hht import HHTTransformer

    return HHTTransformer(
        fs=args.fs,
        n_freq_bins=args.size,
        n_time_bins=args.size,
        max_imf=args.max_imf,
        n_jobs=args.n_jobs,
        progress=progress,
    )


def _unit_bases(names, windows=None):
    """The name of every unit (recording, or window with ``windows``) of the
    recording files ``names``: the recording's name without its extension
    (``rec_1.txt`` -> ``rec_1``), its whole name where two recordings would
    clash (``rec_1_txt``); a window adds its start in steps
    (``rec_1_w0003``), four digits or more."""
    unique = list(dict.fromkeys(names))
    stems = [Path(name).stem for name in unique]
    clash = {stem for stem in stems if stems.count(stem) > 1}
    bases = {
        name: name.replace(".", "_") if stem in clash else stem
        for name, stem in zip(unique, stems, strict=True)
    }
    digits = max([4] + [len(str(w)) for w in windows or ()])
    return [
        bases[name] if windows is None else f"{bases[name]}_w{windows[u]:0{digits}d}"
        for u, name in enumerate(names)
    ]


def _npz_names(names, n_channels, windows=None):
    """``[[npz name per channel] per unit]``: ``{base}.npz`` for one channel,
    ``{base}_ch2.npz`` for channel 2 of several (see :func:`_unit_bases`)."""
    from collections import Counter

    result = [
        [f"{base}.npz"]
        if count == 1
        else [f"{base}_ch{c + 1}.npz" for c in range(count)]
        for base, count in zip(_unit_bases(names, windows), n_channels, strict=True)
    ]
    counts = Counter(n for per_unit in result for n in per_unit)
    twice = sorted(n for n, k in counts.items() if k > 1)
    if twice:
        raise CLIError(
            f"two outputs would be named {twice[0]!r}: rename the recordings "
            "behind it, or use --muscle to number the files instead."
        )
    return result


def _unit_windows(data):
    """The window of every unit (None for whole recordings)."""
    if "window" not in data.unit_rows[0]:
        return None
    return [row["window"] for row in data.unit_rows]
