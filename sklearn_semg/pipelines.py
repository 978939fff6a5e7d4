"""Ready-made pipelines for the two methods, and one search over both.

Method 1: ``HHTTransformer -> CNNFeatureExtractor (frozen) -> StandardScaler ->
CalibratedSVC``. Method 2: ``HHTTransformer -> HHTCNNClassifier`` (trained end
to end). Both are plain :class:`sklearn.pipeline.Pipeline` objects.
"""

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._svm import CalibratedSVC
from .features import MarginalSpectrum, SubjectStandardScaler
from .hht import HHTTransformer
from .preprocessing import SEMGFilter
from .utils.validation import SEMG_BAND, semg_band

__all__ = [
    "make_cnn_svm_pipeline",
    "make_end_to_end_pipeline",
    "make_method_comparison",
    "make_recommended_pipeline",
]


def _scaling_step(per_subject):
    """The scaler before the classifier: per subject, or over all rows."""
    if per_subject:
        return ("subject", SubjectStandardScaler())
    return ("scale", StandardScaler())


def _filter_step(filter, fs, raw, factory):
    """``[("filter", SEMGFilter)]`` before the first step on raw recordings,
    or nothing (``filter`` None or False)."""
    if filter is None or filter is False:
        return []
    if not raw:
        raise ValueError(
            f"The 'filter' parameter of {factory} filters raw recordings; it "
            "needs hht=True (the pipeline starts from HHT matrices with "
            "hht=False). Filter the recordings before their HHT instead."
        )
    if filter is True:
        return [("filter", SEMGFilter(fs=fs, mains="auto"))]
    if isinstance(filter, dict):
        return [("filter", SEMGFilter(**{"fs": fs, "mains": "auto", **filter}))]
    if isinstance(filter, SEMGFilter):
        return [("filter", filter)]
    raise TypeError(
        f"The 'filter' parameter of {factory} must be None, True, a dict of "
        f"SEMGFilter parameters or a SEMGFilter; got {filter!r}."
    )


def _hht_step(hht, fs, hht_params, n_jobs, memory):
    if not hht:
        return []
    params = {"fs": fs, "n_jobs": n_jobs, "memory": memory, **(hht_params or {})}
    return [("hht", HHTTransformer(**params))]


def make_cnn_svm_pipeline(
    *,
    hht=True,
    fs=1000.0,
    hht_params=None,
    base_channels=64,
    num_layers=3,
    pooling="global",
    weights=None,
    device="cpu",
    batch_size=4,
    C=10.0,
    kernel="rbf",
    gamma="scale",
    per_subject=False,
    memory=None,
    n_jobs=None,
    random_state=None,
    filter=None,
):
    """Method 1: HHT, frozen CNN encoder, StandardScaler and a calibrated SVC.

    Parameters
    ----------
    hht : bool, default=True
        Start with an :class:`~sklearn_semg.HHTTransformer` step named
        ``"hht"`` (raw recordings in). ``False`` for data that are already
        HHT matrices, such as the ``.npz`` folders of
        :func:`~sklearn_semg.datasets.load_hht_dir`.
    fs : float, default=1000.0
        Sampling rate of the raw recordings, in Hz.
    hht_params : dict or None, default=None
        Other :class:`~sklearn_semg.HHTTransformer` parameters
        (``n_freq_bins``, ``n_time_bins``, ``freq_range``...).
    base_channels, num_layers, pooling, weights, device, batch_size
        :class:`~sklearn_semg.CNNFeatureExtractor` parameters (step ``"cnn"``).
    C, kernel, gamma : float, str, str or float, default=10.0, "rbf", "scale"
        SVC parameters (the reference's defaults), step ``"clf"``.
    per_subject : bool, default=False
        Standardise the CNN features within each subject (or session) instead
        of over all training rows: a :class:`~sklearn_semg.SubjectStandardScaler`
        step ``"subject"`` in place of ``"scale"``. The pipeline then needs the
        subject of every recording as ``groups``, through scikit-learn's
        metadata routing (see :func:`make_recommended_pipeline`).
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the HHT step, per recording (see :mod:`sklearn_semg.hht`):
        folds and searches then decompose each recording once in total.
    n_jobs : int or None, default=None
        Parallel HHT over recordings.
    random_state : int, RandomState instance or None, default=None
        Seeds the encoder's random weights and the SVC.

    filter : bool, dict, SEMGFilter or None, default=None
        Condition the raw recordings first: a step ``"filter"``, a
        :class:`~sklearn_semg.SEMGFilter` (``True``: the sEMG band and the
        mains notch found in the data, ``mains="auto"``; a dict: its
        parameters). Off by default, so that earlier results stay the same.
    Returns
    -------
    pipeline : Pipeline
        Steps ``hht`` (optional), ``cnn``, ``scale`` (``subject`` with
        ``per_subject=True``), ``clf`` (the final step of every factory).
        ``predict_proba`` gives calibrated probabilities (see
        :class:`~sklearn_semg.CalibratedSVC`).

    Examples
    --------
    >>> from sklearn_semg import make_cnn_svm_pipeline
    >>> pipe = make_cnn_svm_pipeline(fs=1000, hht_params={"n_freq_bins": 64})
    >>> [name for name, _ in pipe.steps]
    ['hht', 'cnn', 'scale', 'clf']
    """
    from .nn import CNNFeatureExtractor

    return Pipeline(
        _filter_step(filter, fs, hht, "make_cnn_svm_pipeline")
        + _hht_step(hht, fs, hht_params, n_jobs, memory)
        + [
            (
                "cnn",
                CNNFeatureExtractor(
                    base_channels=base_channels,
                    num_layers=num_layers,
                    pooling=pooling,
                    weights=weights,
                    device=device,
                    batch_size=batch_size,
                    random_state=random_state,
                ),
            ),
            _scaling_step(per_subject),
            (
                "clf",
                CalibratedSVC(
                    C=C, kernel=kernel, gamma=gamma, random_state=random_state
                ),
            ),
        ]
    )


def make_end_to_end_pipeline(
    *,
    hht=True,
    fs=1000.0,
    hht_params=None,
    memory=None,
    n_jobs=None,
    filter=None,
    **net_params,
):
    """Method 2: HHT, then a CNN trained end to end (skorch).

    Parameters
    ----------
    hht : bool, default=True
        Start with an :class:`~sklearn_semg.HHTTransformer` step named
        ``"hht"``; ``False`` for data that are already HHT matrices.
    fs : float, default=1000.0
        Sampling rate of the raw recordings, in Hz.
    hht_params : dict or None, default=None
        Other :class:`~sklearn_semg.HHTTransformer` parameters.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the HHT step, per recording (see :mod:`sklearn_semg.hht`):
        folds and searches then decompose each recording once in total.
    n_jobs : int or None, default=None
        Parallel HHT over recordings.
    **net_params
        :class:`~sklearn_semg.HHTCNNClassifier` parameters (``max_epochs``,
        ``module__base_channels``, ``checkpoint_dir``, ``random_state``...).

    filter : bool, dict, SEMGFilter or None, default=None
        Condition the raw recordings first: a step ``"filter"``, a
        :class:`~sklearn_semg.SEMGFilter` (``True``: the sEMG band and the
        mains notch found in the data, ``mains="auto"``; a dict: its
        parameters). Off by default, so that earlier results stay the same.
    Returns
    -------
    pipeline : Pipeline
        Steps ``hht`` (optional) and ``clf``.

    Examples
    --------
    >>> from sklearn_semg import make_end_to_end_pipeline
    >>> pipe = make_end_to_end_pipeline(hht=False, max_epochs=10)
    >>> [name for name, _ in pipe.steps], pipe.get_params()["clf__max_epochs"]
    (['clf'], 10)
    """
    from .nn import HHTCNNClassifier

    return Pipeline(
        _filter_step(filter, fs, hht, "make_end_to_end_pipeline")
        + _hht_step(hht, fs, hht_params, n_jobs, memory)
        + [("clf", HHTCNNClassifier(**net_params))]
    )


def make_method_comparison(
    *,
    hht=True,
    fs=1000.0,
    hht_params=None,
    svm_C=(1.0, 10.0),
    cnn_params=None,
    net_params=None,
    memory=None,
    n_jobs=None,
    random_state=None,
    filter=None,
):
    """One pipeline and a list of grids that search method 1 and method 2.

    The pipeline has the steps ``hht`` (optional), ``cnn``, ``scale``,
    ``clf``. The first grid is method 1 (frozen CNN features, scaler,
    :class:`~sklearn_semg.CalibratedSVC` with ``C`` in ``svm_C``); the second
    swaps the final steps: ``cnn`` and ``scale`` become ``"passthrough"`` and
    ``clf`` an :class:`~sklearn_semg.HHTCNNClassifier`. Give both to
    :class:`~sklearn.model_selection.GridSearchCV`; ``best_params_["clf"]``
    then tells which method won.

    Parameters
    ----------
    hht, fs, hht_params, memory, n_jobs, filter
        As in :func:`make_cnn_svm_pipeline`.
    svm_C : sequence of float, default=(1.0, 10.0)
        Values of ``C`` tried for method 1.
    cnn_params : dict or None, default=None
        :class:`~sklearn_semg.CNNFeatureExtractor` parameters for method 1.
    net_params : dict or None, default=None
        :class:`~sklearn_semg.HHTCNNClassifier` parameters for method 2.
    random_state : int, RandomState instance or None, default=None
        Seeds the encoder, the SVC and the network.

    Returns
    -------
    pipeline : Pipeline
    param_grid : list of dict
        ``[method-1 grid, method-2 grid]``.

    Examples
    --------
    >>> from sklearn_semg import make_method_comparison
    >>> pipe, grid = make_method_comparison(hht=False)
    >>> [type(g["clf"][0]).__name__ for g in grid]
    ['CalibratedSVC', 'HHTCNNClassifier']
    """
    from .nn import CNNFeatureExtractor, HHTCNNClassifier

    cnn = CNNFeatureExtractor(**{"random_state": random_state, **(cnn_params or {})})
    svm = CalibratedSVC(C=svm_C[0], random_state=random_state)
    net = HHTCNNClassifier(**{"random_state": random_state, **(net_params or {})})
    pipeline = Pipeline(
        _filter_step(filter, fs, hht, "make_method_comparison")
        + _hht_step(hht, fs, hht_params, n_jobs, memory)
        + [("cnn", cnn), ("scale", StandardScaler()), ("clf", svm)]
    )
    param_grid = [
        {
            "cnn": [cnn],
            "scale": [StandardScaler()],
            "clf": [svm],
            "clf__C": list(svm_C),
        },
        {"cnn": ["passthrough"], "scale": ["passthrough"], "clf": [net]},
    ]
    return pipeline, param_grid


def make_recommended_pipeline(
    *,
    fs=1000.0,
    freq_range="semg",
    n_freq_bins=64,
    C=10.0,
    per_subject=False,
    memory=None,
    backend="auto",
    n_jobs=None,
    progress=False,
    random_state=None,
    filter=None,
):
    """The pipeline we recommend to start with, chosen on real sEMG.

    One empirical mode decomposition of each recording
    (:class:`~sklearn_semg.EMDDecomposer`), read in two ways side by side
    (:class:`~sklearn.pipeline.FeatureUnion`), then a scaler and a
    :class:`~sklearn_semg.CalibratedSVC`:

    - :class:`~sklearn_semg.HHTFeatures`: relative band energies, log energy,
      instantaneous mean and median frequency and their trends, IMF energies;
    - ``HHTTransformer`` (``n_freq_bins`` rows over ``freq_range``,
      amplitudes kept) -> :class:`~sklearn_semg.MarginalSpectrum` (log
      energy per channel and frequency row).

    What it achieved, on which data and with which protocol, is on the
    benchmarks page of the documentation (``bench/bench_accuracy.py``): it is
    not better than the classic features everywhere. Between-subject
    variation dominates on new subjects; ``per_subject=True`` calibrates
    every subject on its own recordings. Tune ``C`` (``clf__C``) by inner
    cross-validation on a new task.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the raw recordings, in Hz.
    freq_range : "semg" or tuple of (float, float), default="semg"
        The band of both views. ``"semg"`` is 20 to 450 Hz. Whatever the
        band, its upper edge is lowered to ``0.45 * fs``, with a warning, when
        the sampling rate is too low for it
        (:func:`~sklearn_semg.utils.semg_band`).
    n_freq_bins : int, default=64
        Frequency rows of the HHT behind the marginal spectrum.
    C : float, default=10.0
        SVC regularisation.
    per_subject : bool, default=False
        Standardise the features within each subject (or session) instead of
        over all training rows: a :class:`~sklearn_semg.SubjectStandardScaler`
        step ``"subject"`` in place of the ``StandardScaler`` step ``"scale"``.
        The pipeline then needs the subject of every recording as ``groups``
        in ``fit``, ``predict`` and ``score``, through scikit-learn's metadata
        routing: ``sklearn.set_config(enable_metadata_routing=True)``, then
        ``pipe.fit(X, y, groups=g)``, ``pipe.predict(X, groups=g)``,
        ``cross_validate(pipe, X, y, cv=GroupKFold(5), params={"groups": g})``.
        Each new subject is calibrated on its own unlabelled recordings (see
        the assumption in :class:`~sklearn_semg.SubjectStandardScaler`).
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the decompositions and of both views, per recording (see
        :mod:`sklearn_semg.hht`): with it, a cross-validation or a search
        over ``C`` decomposes each recording once in total.
    backend : {"auto", "numba", "pyemd"}, default="auto"
        EMD back-end (see :class:`~sklearn_semg.EMDDecomposer`).
    n_jobs : int or None, default=None
        Parallel EMD over recordings.
    progress : bool, default=False
        Show a progress bar while recordings are decomposed.
    random_state : int, RandomState instance or None, default=None
        Seeds the SVC's probability calibration.

    filter : bool, dict, SEMGFilter or None, default=None
        Condition the raw recordings first: a step ``"filter"``, a
        :class:`~sklearn_semg.SEMGFilter` (``True``: the sEMG band and the
        mains notch found in the data, ``mains="auto"``; a dict: its
        parameters). Off by default, so that earlier results stay the same.
    Returns
    -------
    pipeline : Pipeline
        Steps ``emd`` (:class:`~sklearn_semg.EMDDecomposer`), ``features``
        (a FeatureUnion of ``hht_features`` and ``spectrum``), ``scale``
        (``subject`` with ``per_subject=True``), ``clf``. Raw recordings in.

    Examples
    --------
    >>> from sklearn_semg import make_recommended_pipeline
    >>> [name for name, _ in make_recommended_pipeline(fs=1000).steps]
    ['emd', 'features', 'scale', 'clf']
    >>> [name for name, _ in make_recommended_pipeline(per_subject=True).steps]
    ['emd', 'features', 'subject', 'clf']
    """
    from sklearn.pipeline import FeatureUnion

    from .features import HHTFeatures
    from .hht import EMDDecomposer

    if isinstance(freq_range, str) and freq_range == "semg":
        freq_range = SEMG_BAND
    elif not (isinstance(freq_range, (tuple, list)) and len(freq_range) == 2):
        raise ValueError(
            "The 'freq_range' parameter of make_recommended_pipeline must be 'semg' "
            f"or a pair (f_min, f_max) in Hz; got {freq_range!r}."
        )
    band = semg_band(fs, freq_range, owner="make_recommended_pipeline")
    spectrum = Pipeline(
        [
            (
                "hht",
                HHTTransformer(
                    fs=fs,
                    n_freq_bins=n_freq_bins,
                    n_time_bins=64,
                    freq_range=band,
                    normalize=None,
                    memory=memory,
                ),
            ),
            ("marginal", MarginalSpectrum()),
        ]
    )
    features = FeatureUnion(
        [
            ("hht_features", HHTFeatures(fs=fs, freq_range=band, memory=memory)),
            ("spectrum", spectrum),
        ]
    )
    return Pipeline(
        _filter_step(filter, fs, True, "make_recommended_pipeline")
        + [
            (
                "emd",
                EMDDecomposer(
                    backend=backend, memory=memory, n_jobs=n_jobs, progress=progress
                ),
            ),
            ("features", features),
            _scaling_step(per_subject),
            ("clf", CalibratedSVC(C=C, random_state=random_state)),
        ]
    )
