"""Figures: Hilbert-Huang matrices, confusion matrices, training histories.

matplotlib is imported inside each function, so ``import sklearn_semg`` and
the command line stay light and never pick a GUI backend. Every function draws
on the axes it is given (or on a new figure) and returns the
:class:`~matplotlib.figure.Figure`; nothing is shown, which keeps them safe
under the ``Agg`` backend (servers, tests, ``sklearn-semg demo``). Save with
``fig.savefig(path)``; close with ``matplotlib.pyplot.close(fig)``.

This module depends on the library, never the reverse.
"""

import textwrap
import warnings
from numbers import Integral, Real

import numpy as np

from .hht._spectrum import compress
from .utils._validation import check_positive
from .utils.validation import check_freq_range, check_hht_matrices

__all__ = ["plot_confusion_matrix", "plot_hht", "plot_history"]

#: History keys :func:`plot_history` needs, as recorded by HHTCNNClassifier.
HISTORY_KEYS = ("train_loss", "valid_loss", "train_acc", "valid_acc", "lr")

#: Keys of the reference notebook's history dict, mapped to skorch's names.
_REFERENCE_KEYS = {
    "val_loss": "valid_loss",
    "val_acc": "valid_acc",
    "learning_rate": "lr",
}


def _plot_compression(compression, log):
    """``compression`` of plot_hht, or the value of its former ``log``."""
    if not isinstance(log, str):  # given: not "deprecated"
        warnings.warn(
            "plot_hht: the parameter 'log' is deprecated in 0.2 and will be "
            "removed in 0.3; use compression='log', the compression of "
            "HHTTransformer.",
            FutureWarning,
            stacklevel=3,
        )
        return "log" if log else None
    if compression is None or compression == "log":
        return compression
    if (
        isinstance(compression, Real)
        and not isinstance(compression, bool)
        and 0 < compression <= 1
    ):
        return float(compression)
    raise ValueError(
        f"compression must be None, 'log' or a float in (0, 1]; got {compression!r}."
    )


def _transformer_axes(transformer, fs, freq_range):
    """(fs, freq_range, colour-bar label) of the matrices ``transformer``
    makes; ``fs`` and ``freq_range`` given as well must agree with it."""
    if not hasattr(transformer, "_check_freq_range") or not hasattr(transformer, "fs"):
        raise TypeError(
            "transformer must be the HHTTransformer that made the matrix; got "
            f"{type(transformer).__name__}."
        )
    t_fs = float(transformer.fs)
    band = transformer._check_freq_range(default=(0.0, t_fs / 2), warn=False)
    band = (float(band[0]), float(band[1]))
    if fs is not None and fs != t_fs:
        raise ValueError(
            f"fs={fs:g} disagrees with the transformer's fs={t_fs:g}; pass only "
            "the transformer."
        )
    if freq_range is not None and tuple(freq_range) != band:
        raise ValueError(
            f"freq_range={freq_range} disagrees with the transformer's band "
            f"{band}; pass only the transformer."
        )
    scale = {
        "max": "amplitude / its maximum",
        "global": "amplitude / training scale",
        None: "amplitude (input units)",
    }.get(transformer.normalize, "amplitude")
    compression = transformer.compression
    if compression == "log":
        scale = f"log-compressed {scale}"
    elif compression is not None:
        scale = f"({scale}) ** {compression:g}"
    return t_fs, band, scale[0].upper() + scale[1:]


def _axes_list(ax, n, name):
    """``ax`` (an Axes or a sequence of Axes) as a list of ``n`` Axes."""
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n:
        raise ValueError(f"{name} must hold {n} Axes (one per panel); got {len(axes)}.")
    return axes


def plot_hht(
    matrix,
    *,
    fs=None,
    duration=None,
    n_times=None,
    freq_range=None,
    ax=None,
    title=None,
    compression=None,
    log_floor=1e-3,
    cmap="viridis",
    transformer=None,
    vmax=None,
    log="deprecated",
):
    """Show a Hilbert-Huang matrix as a time-frequency image.

    Row 0 of the matrix (the lowest frequency) is drawn at the bottom
    (``origin="lower"``), as :class:`~sklearn_semg.HHTTransformer` lays it out.

    Parameters
    ----------
    matrix : array-like of shape (n_freq_bins, n_time_bins) or \
            (n_channels, n_freq_bins, n_time_bins)
        One matrix, or one per channel (one panel each), e.g. ``X_hht[i]``.
    fs : float or None, default=None
        Sampling rate of the recording, in Hz. The frequency axis then spans
        ``0 .. fs / 2`` Hz (what ``HHTTransformer`` covers without
        ``freq_range``), and with ``n_times`` the time axis is in seconds.
    duration : float or None, default=None
        Length of the recording in seconds; the time axis then spans
        ``0 .. duration`` s.
    n_times : int or None, default=None
        Number of samples of the recording; with ``fs`` gives the duration.
    freq_range : tuple of (float, float) or None, default=None
        ``(f_min, f_max)`` in Hz covered by the rows (the ``freq_range`` of
        ``HHTTransformer``); overrides ``fs`` for the frequency axis.
    ax : matplotlib Axes, sequence of Axes or None, default=None
        Where to draw: one Axes per channel. ``None`` makes a new figure with
        the channels side by side.
    title : str or None, default=None
        Title of the panel (or of the figure when there are several panels).
    compression : {"log"}, float or None, default=None
        Compress the colour scale with the formula of
        :class:`~sklearn_semg.HHTTransformer`, applied to ``x`` = the matrix
        divided by the top of the scale (``vmax``, else the panel's largest
        value): ``"log"`` draws ``log(x + log_floor) - log(log_floor)``, which
        shows the weak high-frequency content next to the strong bursts; a
        float ``p`` in (0, 1] draws ``x ** p``. ``None``: the values as they
        are. Use it on matrices that are not compressed already.
    log_floor : float, default=1e-3
        Floor of the ``"log"`` compression, relative to the top of the scale.
    cmap : str, default="viridis"
        Colour map.
    transformer : HHTTransformer or None, default=None
        The transformer that made the matrix: the frequency axis is then its
        band (``freq_range``, ``"semg"`` resolved, else ``0 .. fs / 2``), the
        time axis uses its ``fs``, and the colour bar names its
        normalisation and compression. Prefer it to ``fs``/``freq_range``
        typed again by hand; passing both with other values is an error.
    vmax : float or None, default=None
        Top of the colour scale; ``None``: the largest value of each panel.
        Give one value to several calls (say ``X_hht.max()``) to draw
        matrices on one common scale.
    log : bool

        .. deprecated:: 0.2
            Use ``compression="log"``; it will be removed in 0.3.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the panel(s), each with a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.plotting import plot_hht
    >>> matrix = np.random.default_rng(0).random((2, 32, 32))
    >>> fig = plot_hht(matrix, fs=1000, n_times=1024)
    >>> [a.get_xlabel() for a in fig.axes[:2]]
    ['Time (s)', 'Time (s)']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    if np.ndim(matrix) not in (2, 3) or 0 in np.shape(matrix):
        raise ValueError(
            "matrix must have shape (n_freq_bins, n_time_bins) or (n_channels, "
            f"n_freq_bins, n_time_bins); got shape {np.shape(matrix)}."
        )
    # one matrix (per channel): the batch of one that check_hht_matrices reads
    arr = check_hht_matrices(
        np.asarray(matrix)[np.newaxis],
        estimator_name="plot_hht",
        input_name="matrix",
        dtype=np.float64,
    )[0]
    fs = check_positive(fs, "fs", optional=True)
    duration = check_positive(duration, "duration", optional=True)
    if n_times is not None and (
        isinstance(n_times, bool) or not isinstance(n_times, Integral) or n_times < 1
    ):
        raise ValueError(f"n_times must be a positive int; got {n_times!r}.")
    freq_range = check_freq_range(freq_range, fs, estimator_name="plot_hht")
    amplitude = "Amplitude"
    if transformer is not None:
        fs, freq_range, amplitude = _transformer_axes(transformer, fs, freq_range)

    if freq_range is not None:
        f_lim, f_label = freq_range, "Frequency (Hz)"
    elif fs is not None:
        f_lim, f_label = (0.0, fs / 2), "Frequency (Hz)"
    else:
        f_lim, f_label = (0.0, float(arr.shape[1])), "Frequency bin"
    if duration is None and n_times is not None and fs is not None:
        duration = n_times / fs
    if duration is not None:
        t_lim, t_label = (0.0, duration), "Time (s)"
    else:
        t_lim, t_label = (0.0, float(arr.shape[2])), "Time bin"

    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    n_channels = arr.shape[0]
    if ax is None:
        fig, axes = plt.subplots(
            1, n_channels, figsize=(4.5 * n_channels + 0.5, 3.8), squeeze=False
        )
        axes = list(axes.ravel())
    else:
        axes = _axes_list(ax, n_channels, "ax")
        fig = axes[0].figure

    compression = _plot_compression(compression, log)
    log_floor = check_positive(log_floor, "log_floor")
    top = check_positive(vmax, "vmax", optional=True)
    for c, panel in enumerate(axes):
        data = arr[c].astype(float)
        label = amplitude
        norm = None if top is None else Normalize(vmin=0.0, vmax=top)
        if compression is not None:
            high = top or (float(data.max()) if data.max() > 0 else 1.0)
            data = compress(np.clip(data / high, 0.0, 1.0), compression, log_floor)
            norm = Normalize(
                vmin=0.0, vmax=float(compress(np.ones(1), compression, log_floor)[0])
            )
            label = (
                f"{amplitude}, log-compressed"
                if compression == "log"
                else f"{amplitude} ** {compression:g}"
            )
        image = panel.imshow(
            data,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            extent=(*t_lim, *f_lim),
            cmap=cmap,
            norm=norm,
        )
        panel.set_xlabel(t_label)
        panel.set_ylabel(f_label)
        colorbar = fig.colorbar(image, ax=panel)
        colorbar.set_label(label)
        if n_channels > 1:
            panel.set_title(f"Channel {c + 1}")
    if title is not None:
        if n_channels > 1 and ax is None:
            fig.suptitle(title)
        elif n_channels > 1:
            for c, panel in enumerate(axes):
                panel.set_title(f"{title}, channel {c + 1}")
        else:
            axes[0].set_title(title)
    if ax is None:
        fig.tight_layout()
    return fig


def plot_confusion_matrix(
    y_true,
    y_pred,
    *,
    labels=None,
    normalize=None,
    ax=None,
    title=None,
    cmap="Blues",
):
    """Confusion matrix of predictions (true labels on rows).

    A thin layer over :class:`sklearn.metrics.ConfusionMatrixDisplay` that
    wraps long class names and titles the panel.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like or None, default=None
        Classes, in the order of the rows and columns. ``None``: the sorted
        union of ``y_true`` and ``y_pred``.
    normalize : {"true", "pred", "all"} or None, default=None
        Show fractions of each true class (row), of each predicted class
        (column) or of all samples instead of counts.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure.
    title : str or None, default=None
        Panel title; ``None`` gives "Confusion matrix" (with the
        normalisation, if any).
    cmap : str, default="Blues"
        Colour map.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn_semg.plotting import plot_confusion_matrix
    >>> fig = plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"])
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('Predicted label', 'True label')
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            f"normalize must be None, 'true', 'pred' or 'all'; got {normalize!r}."
        )
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1 or len(y_true) != len(y_pred):
        raise ValueError(
            "y_true and y_pred must be 1-D with one label per sample; got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty; expected at least 1 sample.")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    labels = np.asarray(labels)

    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    n = len(labels)
    if ax is None:
        size = max(4.5, 0.9 * n + 2.5)
        fig, ax = plt.subplots(figsize=(size + 1, size))
    else:
        fig = ax.figure
    names = [textwrap.fill(str(label), 14) for label in labels]
    long_names = any(len(str(label)) > 8 for label in labels)
    display = ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        display_labels=names,
        normalize=normalize,
        ax=ax,
        cmap=cmap,
        xticks_rotation=45 if long_names else "horizontal",
        values_format=".2f" if normalize else "d",
        colorbar=True,
        # fractions on one fixed scale, so that figures compare at a glance
        im_kw={"vmin": 0.0, "vmax": 1.0} if normalize else None,
    )
    if normalize and display.text_ is not None:
        # scikit-learn picks the text colour from the data's own range: on
        # the fixed 0..1 scale, light cells need dark text and dark cells white
        for (i, j), text in np.ndenumerate(display.text_):
            value = display.confusion_matrix[i, j]
            text.set_color("white" if value > 0.5 else "black")
    display.im_.colorbar.set_label(
        {
            None: "Number of samples",
            "true": "Fraction of the true class",
            "pred": "Fraction of the predicted class",
            "all": "Fraction of all samples",
        }[normalize]
    )
    if title is None:
        title = "Confusion matrix"
        if normalize is not None:
            title += {
                "true": " (fraction of each true class)",
                "pred": " (fraction of each predicted class)",
                "all": " (fraction of all samples)",
            }[normalize]
    ax.set_title(title)
    if long_names:
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    fig.tight_layout()
    return fig


def _history_records(net_or_history):
    """A list of per-epoch dicts from a net, a pipeline, a History or a dict."""
    obj = net_or_history
    if hasattr(obj, "steps") and obj.steps:  # a Pipeline: its final estimator
        obj = obj.steps[-1][1]
    if hasattr(obj, "module") and hasattr(obj, "history"):  # a skorch net
        if not getattr(obj, "initialized_", False) or not len(obj.history):
            raise ValueError(
                f"{type(obj).__name__} has no training history: it is not fitted. "
                "Call fit first, or pass its history."
            )
        obj = obj.history
    if isinstance(obj, dict):  # the reference notebook's dict of lists
        columns = {_REFERENCE_KEYS.get(k, k): list(v) for k, v in obj.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(
                "The history dict must hold one list per key, all of the same "
                f"length (one value per epoch); got lengths "
                f"{ {k: len(v) for k, v in columns.items()} }."
            )
        n = lengths.pop() if lengths else 0
        return [{k: v[i] for k, v in columns.items()} for i in range(n)]
    if isinstance(obj, (list, tuple)) and all(isinstance(r, dict) for r in obj):
        return list(obj)
    raise TypeError(
        "net_or_history must be a fitted HHTCNNClassifier (or a pipeline ending "
        "in one), its skorch History, a list of per-epoch dicts or a dict of "
        f"per-epoch lists; got {type(net_or_history).__name__}."
    )


def plot_history(net_or_history, *, axes=None, title=None, valid_label="Validation"):
    """Training curves: loss, accuracy and learning rate per epoch.

    The three panels of the reference notebook's ``plot_training_history``
    (see :ref:`reference_notebook`):
    train and validation loss; train and validation accuracy (epochs with a
    new best validation accuracy marked with a star); learning rate on a log
    scale.

    Parameters
    ----------
    net_or_history : HHTCNNClassifier, Pipeline, History, list of dict or dict
        A fitted :class:`~sklearn_semg.HHTCNNClassifier` (or a pipeline whose
        last step is one), its ``history`` (a skorch History, i.e. a list of
        per-epoch dicts), or the reference notebook's dict of lists (keys
        ``val_loss``, ``val_acc``, ``learning_rate`` are read as
        ``valid_loss``, ``valid_acc``, ``lr``). Every epoch needs the keys
        ``train_loss``, ``valid_loss``, ``train_acc``, ``valid_acc`` and
        ``lr``.
    axes : sequence of 3 matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure with three panels.
    title : str or None, default=None
        Figure title.
    valid_label : str, default="Validation"
        Legend of the validation curves: say what the validation set is.
        :class:`~sklearn_semg.HHTCNNClassifier`'s default ``train_split`` is
        a random stratified 20% of the training data, not other subjects,
        so its curves look better than a subject-wise test.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the history is empty or an epoch lacks one of the keys (a net
        fitted with ``train_split=None`` has no validation scores).

    Examples
    --------
    >>> from sklearn_semg.plotting import plot_history
    >>> history = [{"train_loss": 1.0 / e, "valid_loss": 1.2 / e,
    ...             "train_acc": 0.5, "valid_acc": 0.4, "lr": 1e-3}
    ...            for e in range(1, 4)]
    >>> fig = plot_history(history)
    >>> [a.get_yscale() for a in fig.axes]
    ['linear', 'linear', 'log']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    records = _history_records(net_or_history)
    if not records:
        raise ValueError(
            "The history is empty (no epoch recorded); expected at least one epoch."
        )
    missing = sorted({k for r in records for k in HISTORY_KEYS if k not in r})
    if missing:
        present = sorted(set().union(*(r.keys() for r in records)))
        raise ValueError(
            f"The history lacks the key(s) {missing} in some epochs; plot_history "
            f"needs {list(HISTORY_KEYS)} in every epoch. Keys present: {present}. "
            "(A net fitted with train_split=None records no validation scores.)"
        )
    epochs = np.arange(1, len(records) + 1)

    def column(key):
        return np.array([float(r[key]) for r in records])

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        axes = list(axes)
    else:
        axes = _axes_list(axes, 3, "axes")
        fig = axes[0].figure
    ax_loss, ax_acc, ax_lr = axes

    ax_loss.plot(epochs, column("train_loss"), "b-", label="Train", linewidth=2)
    ax_loss.plot(epochs, column("valid_loss"), "r-", label=valid_label, linewidth=2)
    ax_loss.set_ylabel("Loss")
    ax_loss.set_title("Training and validation loss")

    valid_acc = column("valid_acc")
    ax_acc.plot(epochs, column("train_acc"), "b-", label="Train", linewidth=2)
    ax_acc.plot(epochs, valid_acc, "r-", label=valid_label, linewidth=2)
    best = np.array([bool(r.get("best", False)) for r in records])
    if best.any():
        ax_acc.plot(epochs[best], valid_acc[best], "r*", markersize=9, label="New best")
    ax_acc.set_ylabel("Accuracy")
    ax_acc.set_title("Training and validation accuracy")

    ax_lr.plot(epochs, column("lr"), "g-", linewidth=2)
    ax_lr.set_yscale("log")
    ax_lr.set_ylabel("Learning rate")
    ax_lr.set_title("Learning rate schedule")

    for panel in axes:
        panel.set_xlabel("Epoch")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.grid(True, alpha=0.3)
    ax_loss.legend()
    ax_acc.legend()
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
