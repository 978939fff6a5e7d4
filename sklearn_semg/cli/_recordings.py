"""Raw recordings before their HHT: each checked on its own (a bad one is
named), filtered (``--filter``), cut into windows (``--window``, ``--step``,
``--activity``)."""

import warnings

from ._common import CLIError, _reported_warnings, _warn


def _usable_recordings(names, recordings):
    """``(names, recordings, skipped)``: every recording checked on its own,
    so that a bad one is skipped by name, with the reason."""
    from ..utils import check_recordings

    kept_names, kept, skipped = [], [], []
    for name, recording in zip(names, recordings, strict=True):
        try:
            check_recordings([recording])
        except ValueError as exc:
            skipped.append((name, str(exc).replace("X[0]", "the recording")))
            continue
        kept_names.append(name)
        kept.append(recording)
    return kept_names, kept, skipped


def _window_samples(args, fs):
    """``(width, step)`` in samples of ``--window`` and ``--step`` at ``fs``,
    or None without ``--window``; checked before any work."""
    if args.window is None:
        for name in ("step", "activity"):
            value = getattr(args, name)
            if value is not None:
                raise CLIError(
                    f"--{name} {value:g} needs --window (the window length, in "
                    "seconds); without --window every recording is used whole."
                )
        return None
    from ..utils import MIN_N_TIMES

    width = int(round(args.window * fs))
    if width < MIN_N_TIMES:
        raise CLIError(
            f"--window {args.window:g} s at {fs:g} Hz is {width} sample(s); "
            f"expected at least {MIN_N_TIMES} samples ({MIN_N_TIMES / fs:g} s)."
        )
    step_s = args.window if args.step is None else args.step
    step = int(round(step_s * fs))
    if step < 1:
        raise CLIError(
            f"--step {step_s:g} s at {fs:g} Hz is less than one sample; expected "
            f"at least {1 / fs:g} s."
        )
    return width, step


def _split_short(names, recordings, fs, width, window_s):
    """``(usable, skipped)``: the indices of the recordings at least one
    window long, and ``(name, why)`` of the others."""
    skipped, usable = [], []
    for i, (name, rec) in enumerate(zip(names, recordings, strict=True)):
        if rec.shape[-1] < width:
            skipped.append(
                (
                    name,
                    f"{rec.shape[-1]} samples ({rec.shape[-1] / fs:g} s), shorter "
                    f"than one --window of {window_s:g} s ({width} samples)",
                )
            )
        else:
            usable.append(i)
    return usable, skipped


def _windows_of(recordings, members, fs, args):
    """:func:`~sklearn_semg.preprocessing.window_recordings` of the
    recordings ``members`` (one channel count); its warning about dropped
    windows is left to the caller."""
    from ..preprocessing import window_recordings

    with warnings.catch_warnings():
        # summed up by the caller, over every channel count, in the CLI's words
        warnings.filterwarnings(
            "ignore", message="window_recordings: dropped", category=UserWarning
        )
        try:
            return window_recordings(
                [recordings[i] for i in members],
                fs=fs,
                window_s=args.window,
                step_s=args.step,
                activity=args.activity,
            )
        except ValueError as exc:
            if args.activity is not None and "kept no window" in str(exc):
                count = recordings[members[0]].shape[0]
                raise CLIError(
                    f"--activity {args.activity:g} dropped every window of the "
                    f"{len(members)} {count}-channel recording(s); use a smaller "
                    "RATIO (e.g. 0.5), or leave --activity out."
                ) from None
            raise


def _cut_windows(names, recordings, fs, args):
    """The windows of ``recordings`` (``--window``, ``--step``, ``--activity``),
    cut by :func:`~sklearn_semg.preprocessing.window_recordings`.

    Returns ``(data, table, skipped)``: the windows, a list of arrays
    ``(n_channels, width)``; one row per window with ``recording`` (its index
    in ``recordings``), ``window`` (its start in steps), ``start_s`` and
    ``stop_s``; ``(name, why)`` of every recording shorter than one window
    (left out). The windows dropped by ``--activity`` are counted in one
    warning line.
    """
    from collections import Counter

    import pandas as pd

    width, step = _window_samples(args, fs)
    usable, skipped = _split_short(names, recordings, fs, width, args.window)
    data, tables, reasons, n_dropped = [], [], Counter(), 0
    # window_recordings stacks its windows: one call per channel count
    for count in sorted({recordings[i].shape[0] for i in usable}):
        members = [i for i in usable if recordings[i].shape[0] == count]
        windows = _windows_of(recordings, members, fs, args)
        table = windows.metadata[["recording", "start_s", "stop_s"]].copy()
        table["recording"] = [members[r] for r in table["recording"]]
        tables.append(table)
        data.extend(windows.data)
        n_dropped += len(windows.dropped)
        reasons.update(windows.dropped["reason"].tolist())
    if not tables:
        return [], pd.DataFrame(columns=["recording", "start_s", "stop_s"]), skipped
    table = pd.concat(tables, ignore_index=True)
    # in the order of the recordings (the calls went by channel count)
    order = table.sort_values(["recording", "start_s"], kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    data = [data[i] for i in order]
    table.insert(
        1, "window", [int(round(t * fs)) // step for t in table["start_s"].tolist()]
    )
    if n_dropped:
        _warn(
            f"--activity {args.activity:g} dropped {n_dropped} of "
            f"{n_dropped + len(table)} windows ("
            + "; ".join(f"{n} {why}" for why, n in reasons.items())
            + ")."
        )
    return data, table, skipped


def _describe_filter(filt):
    """One line on a fitted SEMGFilter: band, notches, how mains was picked."""
    band = (
        "no band-pass"
        if filt.band_ is None
        else (f"{filt.band_[0]:g}-{filt.band_[1]:g} Hz band-pass")
    )
    if filt.mains_ is None:
        return f"{band}, no mains notch"
    line = f"{band}, mains notch at {filt.mains_:g} Hz" + (
        f" and {len(filt.notch_frequencies_) - 1} harmonic(s)"
        if len(filt.notch_frequencies_) > 1
        else ""
    )
    if filt.mains_prominence_:
        line += (
            " (picked from the data: strongest line "
            + ", ".join(
                f"{f:g} Hz {db:.1f} dB" for f, db in filt.mains_prominence_.items()
            )
            + " above its neighbourhood)"
        )
    return line


def _filter_recordings(recordings, fs):
    """``recordings`` through a SEMGFilter (the sEMG band and the mains notch
    picked from them), fitted per channel count; a line describing it, and a
    short one (``SEMGFilter 20-450 Hz, mains 60 Hz``) per recording."""
    from ..preprocessing import SEMGFilter

    filtered, lines, tags = list(recordings), [], [None] * len(recordings)
    for count in sorted({x.shape[0] for x in recordings}):
        members = [i for i, x in enumerate(recordings) if x.shape[0] == count]
        with _reported_warnings():
            filt = SEMGFilter(fs=fs, mains="auto").fit([recordings[i] for i in members])
            for i, x in zip(
                members, filt.transform([recordings[i] for i in members]), strict=True
            ):
                filtered[i] = x
                tags[i] = f"SEMGFilter {filt.band_[0]:g}-{filt.band_[1]:g} Hz, " + (
                    f"mains {filt.mains_:g} Hz" if filt.mains_ else "no notch"
                )
        lines.append(_describe_filter(filt))
    return filtered, "; ".join(dict.fromkeys(lines)), tags
