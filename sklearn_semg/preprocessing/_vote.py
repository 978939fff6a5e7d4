"""majority_vote: post-processing of the predictions of a window stream."""

from collections import Counter
from numbers import Integral

import numpy as np

__all__ = ["majority_vote"]


def majority_vote(y_pred, recordings, *, k=5):
    """Replace each window's prediction by the most frequent one among the
    last ``k`` windows of its recording (itself included).

    A causal smoother for window streams, as a prosthesis or a live display
    would use it: a window's output depends only on windows that came before
    it in the same recording. Windows are taken in the order given within
    each recording (the order of :func:`window_recordings`). A tie goes to
    the class predicted most recently among the tied ones.

    Parameters
    ----------
    y_pred : array-like of shape (n_windows,)
        Predicted labels, e.g. from ``cross_val_predict`` or ``predict``.
    recordings : array-like of shape (n_windows,)
        Recording of every window (``metadata["recording"]`` of
        :func:`window_recordings`); votes never cross recordings.
    k : int, default=5
        Number of windows voting (1: no change).

    Returns
    -------
    y_voted : ndarray of shape (n_windows,)
        The smoothed labels, in the order of ``y_pred``.

    Examples
    --------
    >>> from sklearn_semg.preprocessing import majority_vote
    >>> majority_vote(["a", "b", "a", "a", "b", "b"], [0, 0, 0, 0, 1, 1], k=3).tolist()
    ['a', 'b', 'a', 'a', 'b', 'b']
    >>> majority_vote(["a", "a", "b", "a"], [0, 0, 0, 0], k=3).tolist()
    ['a', 'a', 'a', 'a']
    """
    y_pred = np.asarray(y_pred)
    recordings = np.asarray(recordings)
    if y_pred.ndim != 1 or recordings.shape != y_pred.shape:
        raise ValueError(
            "y_pred and recordings must be 1-D with one value per window; got "
            f"shapes {y_pred.shape} and {recordings.shape}."
        )
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}.")
    out = y_pred.copy()
    for recording in dict.fromkeys(recordings.tolist()):
        indices = np.flatnonzero(recordings == recording)
        for position, index in enumerate(indices):
            window = y_pred[indices[max(0, position - k + 1) : position + 1]].tolist()
            counts = Counter(window)
            best = max(counts.values())
            # the most recent among the tied classes
            out[index] = next(v for v in reversed(window) if counts[v] == best)
    return out
