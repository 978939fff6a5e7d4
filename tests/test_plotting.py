"""sklearn_semg.plotting: each figure renders to PNG, with labelled axes."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_semg.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_hht,
    plot_history,
)


@pytest.fixture
def save(tmp_path):
    """Save a figure to PNG, close it and return the path (checked non-trivial)."""

    def _save(fig, name="figure.png"):
        path = tmp_path / name
        try:
            fig.savefig(path)
        finally:
            plt.close(fig)
        assert path.is_file()
        assert path.stat().st_size > 5_000
        return path

    yield _save
    plt.close("all")


def _history(n_epochs=4, **drop):
    records = []
    for e in range(1, n_epochs + 1):
        record = {
            "train_loss": 1.0 / e,
            "valid_loss": 1.2 / e,
            "train_acc": 0.5 + 0.1 * e,
            "valid_acc": 0.4 + 0.1 * e,
            "lr": 1e-3 / e,
            "best": True,
        }
        for key in drop:
            record.pop(key)
        records.append(record)
    return records


def _image_axes(fig):
    return [a for a in fig.axes if a.images]


# -- plot_hht ---------------------------------------------------------------
def test_plot_hht_single_matrix_in_hz_and_seconds(save):
    matrix = np.random.default_rng(0).random((32, 16))
    fig = plot_hht(matrix, fs=1000, n_times=2000, title="one")
    (ax,) = _image_axes(fig)
    assert len(fig.axes) == 2  # image and colour bar
    assert ax.get_xlabel() == "Time (s)"
    assert ax.get_ylabel() == "Frequency (Hz)"
    assert ax.get_xlim() == pytest.approx((0, 2.0))
    assert ax.get_ylim() == pytest.approx((0, 500.0))
    assert ax.get_title() == "one"
    assert ax.images[0].origin == "lower"
    assert fig.axes[1].get_ylabel() == "Amplitude"
    save(fig)


@pytest.mark.parametrize(
    "params, band, label",
    [
        ({"freq_range": "semg"}, (20.0, 450.0), "Amplitude / its maximum"),
        ({}, (0.0, 500.0), "Amplitude / its maximum"),
        ({"freq_range": (30, 200), "normalize": None, "compression": "log"},
         (30.0, 200.0), "Log-compressed amplitude (input units)"),
    ],
)  # fmt: skip
def test_plot_hht_takes_its_axes_from_the_transformer(params, band, label, save):
    """The demo once drew 20-450 Hz matrices on a 0-500 Hz axis."""
    from sklearn_semg import HHTTransformer
    from sklearn_semg.datasets import make_semg

    X, _ = make_semg(2, n_times=512, random_state=0)
    hht = HHTTransformer(fs=1000, n_freq_bins=16, n_time_bins=16, **params)
    matrices = hht.fit_transform(X)
    fig = plot_hht(matrices[0], transformer=hht, n_times=512)
    (ax,) = _image_axes(fig)
    assert ax.get_ylim() == pytest.approx(band)
    assert ax.get_xlim() == pytest.approx((0, 0.512))
    assert fig.axes[1].get_ylabel() == label
    save(fig)
    with pytest.raises(ValueError, match="disagrees with the transformer's band"):
        plot_hht(matrices[0], transformer=hht, freq_range=(0, 100))
    with pytest.raises(ValueError, match="fs=2000 disagrees"):
        plot_hht(matrices[0], transformer=hht, fs=2000)
    with pytest.raises(TypeError, match="must be the HHTTransformer"):
        plot_hht(matrices[0], transformer="hht")


def test_plot_hht_one_panel_per_channel(save):
    matrix = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
    fig = plot_hht(matrix, fs=1001, duration=1.5, freq_range=(20, 450), title="x")
    axes = _image_axes(fig)
    assert len(axes) == 2 and len(fig.axes) == 4
    assert [a.get_title() for a in axes] == ["Channel 1", "Channel 2"]
    assert axes[0].get_ylim() == pytest.approx((20, 450))
    assert axes[1].get_xlim() == pytest.approx((0, 1.5))
    assert fig._suptitle.get_text() == "x"
    save(fig)


def test_plot_hht_without_fs_uses_bins(save):
    fig = plot_hht(np.ones((8, 4)))
    (ax,) = _image_axes(fig)
    assert ax.get_xlabel() == "Time bin"
    assert ax.get_ylabel() == "Frequency bin"
    save(fig)


def test_plot_hht_log_scale_with_zeros(save):
    matrix = np.zeros((16, 16))
    matrix[3, 4] = 1.0
    matrix[10, 2] = 1e-3
    fig = plot_hht(matrix, fs=1000, compression="log")
    assert "log-compressed" in fig.axes[1].get_ylabel()
    # HHTTransformer's formula, on the matrix over its maximum: zeros stay 0
    image = fig.axes[0].images[0].get_array()
    assert image[3, 4] == pytest.approx(np.log(1 + 1e-3) - np.log(1e-3))
    assert image[10, 2] == pytest.approx(np.log(2e-3) - np.log(1e-3))
    assert image[0, 0] == 0.0
    save(fig)
    with pytest.warns(FutureWarning, match="'log' is deprecated"):
        old = plot_hht(matrix, fs=1000, log=True)
    np.testing.assert_array_equal(old.axes[0].images[0].get_array(), image)
    with pytest.raises(ValueError, match="compression must be None, 'log'"):
        plot_hht(matrix, compression="sqrt")


def test_plot_hht_on_given_axes(save):
    fig, axes = plt.subplots(2, 2)
    out = plot_hht(np.ones((2, 8, 8)), fs=100, ax=axes[0], title="class a")
    assert out is fig
    assert axes[0, 0].get_title() == "class a, channel 1"
    assert not axes[1, 0].images
    save(fig)


@pytest.mark.parametrize(
    "matrix, kwargs, match",
    [
        (
            np.ones((1, 2, 8, 8)),
            {},
            r"matrix must have shape .* got shape \(1, 2, 8, 8\)",
        ),
        (np.ones(8), {}, "got shape"),
        (np.full((4, 4), np.nan), {}, "NaN"),
        (np.ones((4, 4)), {"fs": -1}, "fs must be a positive number; got -1"),
        (np.ones((4, 4)), {"duration": 0}, "duration must be a positive"),
        (
            np.ones((4, 4)),
            {"freq_range": (400, 20)},
            r"'freq_range' parameter of plot_hht must satisfy 0 <= f_min < f_max",
        ),
        (
            np.ones((4, 4)),
            {"freq_range": (20, 600), "fs": 1000},
            r"must satisfy 0 <= f_min < f_max <= fs/2 = 500 Hz.*\(20, 450\)",
        ),
        (np.ones((4, 4)), {"freq_range": "band"}, "must be None, 'semg'"),
        (np.ones((4, 4)), {"n_times": 0}, "n_times must be a positive int"),
        (np.array([["a"]]), {}, "plot_hht: matrix contains non-numeric values"),
    ],
)
def test_plot_hht_errors(matrix, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_hht(matrix, **kwargs)


def test_plot_hht_wrong_number_of_axes():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax must hold 2 Axes"):
        plot_hht(np.ones((2, 8, 8)), ax=ax)
    plt.close(fig)


# -- plot_confusion_matrix --------------------------------------------------
def test_plot_confusion_matrix_counts(save):
    y_true = ["flexion", "extension", "flexion", "relaxation"]
    y_pred = ["flexion", "flexion", "flexion", "relaxation"]
    fig = plot_confusion_matrix(y_true, y_pred)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # matrix and colour bar
    assert ax.get_xlabel() == "Predicted label"
    assert ax.get_ylabel() == "True label"
    assert ax.get_title() == "Confusion matrix"
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts.count("0") == 6 and "2" in texts
    save(fig)


def test_plot_confusion_matrix_normalized_with_labels(save):
    labels = ["pronation with extended fingers", "flexion", "extension"]
    y_true = ["flexion", "flexion", "extension", "extension"]
    y_pred = ["flexion", "extension", "extension", "extension"]
    fig = plot_confusion_matrix(
        y_true, y_pred, labels=labels, normalize="true", title="CV"
    )
    ax = fig.axes[0]
    assert ax.get_title() == "CV"
    assert {t.get_text() for t in ax.texts} >= {"0.50", "1.00", "0.00"}
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "pronation with\nextended\nfingers"  # wrapped
    save(fig)


def test_plot_confusion_matrix_on_given_axes(save):
    fig, axes = plt.subplots(1, 2)
    assert plot_confusion_matrix([0, 1], [0, 1], ax=axes[1]) is fig
    assert axes[1].images and not axes[0].images
    save(fig)


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        ([0, 1], [0, 1], {"normalize": "rows"}, "normalize must be None, 'true'"),
        ([0, 1, 1], [0, 1], {}, r"one label per sample; got shapes \(3,\) and \(2,\)"),
        ([], [], {}, "empty"),
    ],
)
def test_plot_confusion_matrix_errors(y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_confusion_matrix(y_true, y_pred, **kwargs)


# -- plot_history -----------------------------------------------------------
def _check_history_figure(fig):
    assert len(fig.axes) == 3
    loss, acc, lr = fig.axes
    assert [a.get_xlabel() for a in fig.axes] == ["Epoch"] * 3
    assert (loss.get_ylabel(), acc.get_ylabel(), lr.get_ylabel()) == (
        "Loss",
        "Accuracy",
        "Learning rate",
    )
    assert [a.get_yscale() for a in fig.axes] == ["linear", "linear", "log"]
    assert [t.get_text() for t in loss.get_legend().get_texts()] == [
        "Train",
        "Validation",
    ]


def test_plot_history_from_records(save):
    fig = plot_history(_history(), title="run")
    _check_history_figure(fig)
    assert fig._suptitle.get_text() == "run"
    np.testing.assert_allclose(fig.axes[2].lines[0].get_ydata(), 1e-3 / np.arange(1, 5))
    save(fig)


def test_plot_history_from_reference_dict(save):
    history = {
        "train_loss": [1.0, 0.5],
        "val_loss": [1.1, 0.7],
        "train_acc": [0.5, 0.6],
        "val_acc": [0.4, 0.5],
        "learning_rate": [1e-3, 5e-4],
    }
    fig = plot_history(history)
    _check_history_figure(fig)
    save(fig)


def test_plot_history_from_fitted_net_and_pipeline(save):
    from sklearn_semg import make_end_to_end_pipeline

    rng = np.random.default_rng(0)
    X = rng.random((20, 1, 16, 16), dtype=np.float32)
    y = np.array(["a", "b"] * 10)
    pipe = make_end_to_end_pipeline(
        hht=False,
        max_epochs=3,
        module__base_channels=4,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    for source in (pipe, pipe[-1], pipe[-1].history):
        fig = plot_history(source)
        _check_history_figure(fig)
        assert len(fig.axes[0].lines[0].get_xdata()) == 3
        save(fig)


def test_plot_history_on_given_axes(save):
    fig, axes = plt.subplots(3, 1)
    assert plot_history(_history(), axes=axes) is fig
    save(fig)


def test_plot_history_missing_keys():
    with pytest.raises(ValueError, match=r"lacks the key\(s\) \['lr', 'valid_acc'\]"):
        plot_history(_history(valid_acc=None, lr=None))


def test_plot_history_empty_and_unfitted():
    from sklearn_semg import HHTCNNClassifier

    with pytest.raises(ValueError, match="empty"):
        plot_history([])
    with pytest.raises(ValueError, match="HHTCNNClassifier has no training history"):
        plot_history(HHTCNNClassifier())


def test_plot_history_wrong_type():
    with pytest.raises(TypeError, match="got str"):
        plot_history("history.json")
    with pytest.raises(ValueError, match="same length"):
        plot_history({"train_loss": [1.0], "valid_loss": [1.0, 2.0]})


def test_plot_history_wrong_number_of_axes():
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="axes must hold 3 Axes"):
        plot_history(_history(), axes=axes)
    plt.close(fig)


def test_matplotlib_imported_lazily():
    code = (
        "import sys, sklearn_semg, sklearn_semg.plotting, sklearn_semg.cli; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_normalised_confusion_matrices_share_one_labelled_scale(save):
    y_true = np.array(["a", "a", "b", "b", "b", "c"])
    figs = [
        plot_confusion_matrix(y_true, y_pred, normalize="true")
        for y_pred in (y_true, np.array(["a", "b", "b", "b", "c", "c"]))
    ]
    for fig in figs:
        image = _image_axes(fig)[0].images[0]
        assert image.get_clim() == (0.0, 1.0)
        assert image.colorbar.ax.get_ylabel() == "Fraction of the true class"
        save(fig)
    counts = plot_confusion_matrix(y_true, y_true)
    assert _image_axes(counts)[0].images[0].colorbar.ax.get_ylabel() == (
        "Number of samples"
    )
    save(counts)


def test_history_names_its_validation_set(save):
    fig = plot_history(_history(3), valid_label="Validation (random 20%)")
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "Validation (random 20%)" in legend
    save(fig)


def test_plot_hht_common_colour_scale(save):
    rng = np.random.default_rng(0)
    fig = plot_hht(rng.random((2, 8, 8)), vmax=5.0)
    for ax in _image_axes(fig):
        assert ax.images[0].get_clim() == (0.0, 5.0)
    save(fig)
    fig = plot_hht(rng.random((8, 8)) + 1, vmax=0.5, compression="log")
    # every value is above vmax: all at the top of the compressed scale
    top = np.log(1 + 1e-3) - np.log(1e-3)
    assert _image_axes(fig)[0].images[0].get_clim() == pytest.approx((0.0, top))
    assert np.all(_image_axes(fig)[0].images[0].get_array() == pytest.approx(top))
    save(fig)
    with pytest.raises(ValueError, match="vmax must be a positive number"):
        plot_hht(rng.random((8, 8)), vmax=0)
