"""window_recordings: continuous recordings cut into labelled windows."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._validation import check_positive, check_recordings

__all__ = ["window_recordings"]


def window_recordings(
    X,
    *,
    fs,
    window_s,
    step_s=None,
    labels=None,
    annotations=None,
    subjects=None,
    sessions=None,
    activity=None,
):
    """Cut continuous recordings into fixed-length windows, with their labels
    and groups.

    Every recording is cut into windows of ``window_s`` seconds every
    ``step_s`` seconds (a last, incomplete window is not made). A window
    carries the label of its recording (``labels``) or of the annotation that
    covers it whole (``annotations``), its recording's subject and session,
    and its start and stop times. The result works directly with
    :class:`~sklearn.model_selection.GroupKFold` (``groups``: the subjects)
    and the per-subject calibration (:class:`~sklearn_semg.SubjectStandardScaler`).

    Nothing is dropped without a report. Windows that no single annotation
    covers, and windows below the ``activity`` threshold, are listed with the
    reason in ``dropped`` and summed up in one ``UserWarning``.

    Parameters
    ----------
    X : array-like of shape (n_recordings, n_times) or \
            (n_recordings, n_channels, n_times), or list of array-like
        Continuous recordings (lengths may differ).
    fs : float
        Sampling rate, in Hz.
    window_s : float
        Window length, in seconds.
    step_s : float or None, default=None
        Time between the starts of consecutive windows, in seconds (``None``:
        ``window_s``, no overlap).
    labels : array-like of shape (n_recordings,) or None, default=None
        One label per recording, given to all its windows.
    annotations : pandas.DataFrame or None, default=None
        Time-stamped labels, one row per annotated segment, with columns
        ``recording`` (its index in ``X``), ``start_s``, ``stop_s`` and
        ``label``. A window takes the label of the annotation that covers
        it whole; windows that none covers are dropped (reported).
    subjects, sessions : array-like of shape (n_recordings,) or None, \
            default=None
        Subject and session of every recording. Without ``subjects``, each
        recording is its own group.
    activity : float or None, default=None
        Keep only active windows: those whose RMS (over channels) reaches
        ``activity`` times the median window RMS of their recording (for
        example ``0.5``). ``None`` keeps every window.

    Returns
    -------
    windows : :class:`~sklearn.utils.Bunch`
        With the fields:

        data : ndarray of shape (n_windows, n_channels, n_window_times)
            The windows, float64.
        target : ndarray of shape (n_windows,) or None
            Their labels (``None`` without ``labels`` or ``annotations``).
        groups : ndarray of shape (n_windows,)
            The subject of each window (its recording's index without
            ``subjects``).
        metadata : pandas.DataFrame
            One row per window: ``recording``, ``subject``, ``session``,
            ``start_s``, ``stop_s``, ``label``, ``rms``.
        dropped : pandas.DataFrame
            One row per window not kept: ``recording``, ``start_s``,
            ``stop_s``, ``reason``.
        fs : float
            The sampling rate.

    Raises
    ------
    ValueError
        A recording shorter than one window, NaN or infinite samples, an
        annotation outside its recording or naming no recording, and
        parameters of the wrong form or length; each names the parameter
        or the recording.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.preprocessing import window_recordings
    >>> X = np.random.default_rng(0).standard_normal((2, 1, 5000))
    >>> w = window_recordings(X, fs=1000, window_s=2, step_s=1,
    ...                       labels=["rest", "grip"], subjects=[7, 8])
    >>> w.data.shape, w.target.tolist()[:4], w.groups.tolist()[:4]
    ((8, 1, 2000), ['rest', 'rest', 'rest', 'rest'], [7, 7, 7, 7])
    >>> w.metadata["start_s"].tolist()[:5], w.metadata["recording"].tolist()[:5]
    ([0.0, 1.0, 2.0, 3.0, 0.0], [0, 0, 0, 0, 1])
    """
    recordings = check_recordings(X, min_n_times=1, estimator_name="window_recordings")
    n = len(recordings)
    fs = check_positive(fs, "fs")
    window_s = check_positive(window_s, "window_s")
    step_s = window_s if step_s is None else check_positive(step_s, "step_s")
    width, step = int(round(window_s * fs)), int(round(step_s * fs))
    if width < 2 or step < 1:
        raise ValueError(
            f"window_s={window_s!r} and step_s={step_s!r} at fs={fs:g} Hz give "
            f"windows of {width} sample(s) every {step}; expected at least 2 "
            "samples per window and 1 per step."
        )
    if labels is not None and annotations is not None:
        raise ValueError(
            "Pass either 'labels' (one per recording) or 'annotations' (time-"
            "stamped segments), not both."
        )
    labels = _per_recording(labels, n, "labels")
    subjects = _per_recording(subjects, n, "subjects")
    sessions = _per_recording(sessions, n, "sessions")
    if activity is not None:
        activity = check_positive(activity, "activity")
    segments = _check_annotations(annotations, recordings, fs)

    for i, rec in enumerate(recordings):
        if rec.shape[-1] < width:
            raise ValueError(
                f"X[{i}] has {rec.shape[-1]} samples ({rec.shape[-1] / fs:g} s), "
                f"fewer than one window of window_s={window_s:g} s ({width} "
                "samples); use shorter windows or leave that recording out."
            )

    kept, rows, dropped = [], [], []
    for i, rec in enumerate(recordings):
        starts = np.arange(0, rec.shape[-1] - width + 1, step)
        pieces = np.stack([rec[:, s : s + width] for s in starts])
        rms = np.sqrt(np.mean(pieces**2, axis=(1, 2)))
        floor = activity * np.median(rms) if activity is not None else -np.inf
        for k, start in enumerate(starts):
            start_s, stop_s = start / fs, (start + width) / fs
            label = labels[i] if labels is not None else None
            reason = None
            if segments is not None:
                label = _covering_label(segments.get(i, []), start_s, stop_s)
                if label is None:
                    reason = "not covered by one annotation"
            if reason is None and rms[k] < floor:
                reason = f"inactive (RMS below {activity:g} x the recording's median)"
            if reason is not None:
                dropped.append((i, start_s, stop_s, reason))
                continue
            kept.append(pieces[k])
            rows.append(
                {
                    "recording": i,
                    "subject": subjects[i] if subjects is not None else i,
                    "session": sessions[i] if sessions is not None else None,
                    "start_s": start_s,
                    "stop_s": stop_s,
                    "label": label,
                    "rms": float(rms[k]),
                }
            )
    dropped = pd.DataFrame(
        dropped, columns=["recording", "start_s", "stop_s", "reason"]
    )
    if len(dropped):
        counts = dropped["reason"].value_counts()
        warnings.warn(
            f"window_recordings: dropped {len(dropped)} of "
            f"{len(dropped) + len(rows)} windows ("
            + "; ".join(f"{count} {reason}" for reason, count in counts.items())
            + "); they are listed in the 'dropped' field.",
            UserWarning,
            stacklevel=2,
        )
    if not rows:
        raise ValueError(
            "window_recordings kept no window: every window was dropped "
            f"({dropped['reason'].value_counts().to_dict()})."
        )
    metadata = pd.DataFrame(rows)
    has_labels = labels is not None or segments is not None
    return Bunch(
        data=np.stack(kept),
        target=np.asarray(metadata["label"].tolist()) if has_labels else None,
        groups=np.asarray(metadata["subject"].tolist()),
        metadata=metadata,
        dropped=dropped,
        fs=fs,
    )


def _per_recording(values, n, name):
    if values is None:
        return None
    values = list(np.asarray(values, dtype=object).ravel())
    if len(values) != n:
        raise ValueError(
            f"{name} must hold one value per recording ({n}); got {len(values)}."
        )
    return values


def _check_annotations(annotations, recordings, fs):
    """``{recording: [(start_s, stop_s, label), ...]}`` or None."""
    if annotations is None:
        return None
    if not isinstance(annotations, pd.DataFrame):
        raise ValueError(
            "annotations must be a pandas DataFrame with columns recording, "
            f"start_s, stop_s, label; got {type(annotations).__name__}."
        )
    missing = {"recording", "start_s", "stop_s", "label"} - set(annotations.columns)
    if missing:
        raise ValueError(
            f"annotations lacks the column(s) {sorted(missing)}; expected "
            "recording, start_s, stop_s, label."
        )
    segments = {}
    for row, (recording, start, stop, label) in enumerate(
        annotations[["recording", "start_s", "stop_s", "label"]].itertuples(index=False)
    ):
        if not (
            isinstance(recording, (int, np.integer))
            and 0 <= recording < len(recordings)
        ):
            raise ValueError(
                f"annotations row {row} names recording {recording!r}; expected the "
                f"index of a recording of X, 0 to {len(recordings) - 1}."
            )
        duration = recordings[recording].shape[-1] / fs
        if not 0 <= start < stop <= duration + 1e-9:
            raise ValueError(
                f"annotations row {row} spans {start!r} to {stop!r} s, outside "
                f"recording {recording} (0 to {duration:g} s) or empty; expected "
                "0 <= start_s < stop_s <= its duration."
            )
        segments.setdefault(int(recording), []).append(
            (float(start), float(stop), label)
        )
    return segments


def _covering_label(segments, start_s, stop_s):
    """The label of the annotation covering [start_s, stop_s] whole, else None
    (none, or two different labels)."""
    found = {
        label for a, b, label in segments if a <= start_s + 1e-9 and stop_s <= b + 1e-9
    }
    return found.pop() if len(found) == 1 else None
