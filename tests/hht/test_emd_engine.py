"""The compiled EMD engine against the EMD-signal package (PyEMD) it reproduces.

``decompose(backend="numba")`` must give PyEMD's ``EMD()``, ``EEMD`` and
``CEEMDAN`` (``parallel=False``) results: the same number of rows and values
within ``1e-8 * max|signal|`` (in practice bit for bit), on real recordings and
on the awkward inputs (flat, tiny, plateaus, exact zeros) where a port goes
wrong. Where PyEMD raises, the engine must raise the same exception.
"""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from PyEMD import EMD

from sklearn_semg.hht import _emd_numba
from sklearn_semg.hht._emd import (
    BACKENDS,
    _EngineEMD,
    decompose,
    resolve_backend,
)

RTOL_OF_MAX = 1e-8


def _tolerance(signal):
    finite = np.abs(signal[np.isfinite(signal)])
    return RTOL_OF_MAX * (finite.max() if finite.size else 0.0)


def _compare(signal, **kwargs):
    """Run both back-ends; return ``(engine, reference)`` after checking them.

    When PyEMD raises, the engine must raise the same exception type; the
    exception is then returned as ``reference`` (and ``engine`` is None).
    """
    signal = np.asarray(signal, dtype=np.float64)
    try:
        reference = decompose(signal, backend="pyemd", **kwargs)
    except Exception as exc:  # PyEMD fails: so must the engine, the same way
        with pytest.raises(Exception) as info:
            decompose(signal, backend="numba", **kwargs)
        assert type(info.value) is type(exc), (info.value, exc)
        return None, exc
    engine = decompose(signal, backend="numba", **kwargs)
    assert engine.dtype == np.float64
    assert engine.shape == reference.shape, (engine.shape, reference.shape)
    np.testing.assert_allclose(engine, reference, rtol=0, atol=_tolerance(signal))
    return engine, reference


def _max_diff(a, b):
    return float(np.abs(a - b).max()) if a.size else 0.0


def _kernel_status(signal, max_imf=10, params=None):
    """What the compiled kernel itself says, before any fallback to PyEMD."""
    signal = np.ascontiguousarray(signal, dtype=np.float64)
    config = _EngineEMD(params or {})._config
    return _emd_numba.emd_kernel(signal, max_imf, *config)[1]


def _differ(a, b):
    return a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=1e-6)


# ------------------------------------------------------------- real data
MIOTRACKER = [  # (subject, repetition, movement, column)
    (1, 1, 1, 0),
    (3, 2, 2, 1),
    (7, 3, 4, 0),
    (12, 4, 5, 1),
    (19, 1, 3, 0),
]
BIOPAC = [(1, 1, 1, 1), (5, 2, 3, 0), (22, 3, 1, 1), (30, 1, 5, 0)]
BICEPS_WINDOWS = [0, 30_000, 63_000, 124_000]  # starts of 2 s windows (1000 Hz)


def _check_exact_on(signals):
    """Both back-ends on every signal, max_imf in (10, -1, 2); returns the
    number of comparisons and how many were bit-identical."""
    report, n_exact, n_total = [], 0, 0
    for name, signal in signals.items():
        assert np.ptp(signal) > 0, name
        for max_imf in (10, -1, 2):
            # the compiled kernel answers itself (no fallback to PyEMD)
            assert _kernel_status(signal, max_imf) == _emd_numba.STATUS_OK, name
            engine, reference = _compare(signal, max_imf=max_imf)
            assert engine is not None, (name, max_imf, reference)
            assert engine.shape[0] >= 2, (name, engine.shape)
            if max_imf > 0:
                assert engine.shape[0] <= max_imf + 1
            diff = _max_diff(engine, reference)
            report.append((name, max_imf, engine.shape, diff))
            n_exact += diff == 0.0
            n_total += 1
    return n_exact, n_total, report


def test_real_muscletracker_recordings_match_pyemd(muscletracker_dir):
    raw = muscletracker_dir / "Data" / "Raw"
    signals = {}
    for s, r, m, col in MIOTRACKER:
        data = np.loadtxt(raw / "Miotracker" / f"{s}_{r}_{m}.txt")
        signals[f"miotracker {s}_{r}_{m}[{col}]"] = data[:, col]
    for s, r, m, col in BIOPAC:
        data = np.loadtxt(raw / "Biopac" / f"{s}_{r}_{m}.txt", delimiter=",")
        signals[f"biopac {s}_{r}_{m}[{col}]"] = data[:, col]
    n_exact, n_total, report = _check_exact_on(signals)
    # round-off is allowed, but the port is in practice bit for bit
    assert n_exact >= 0.9 * n_total, report


def test_real_biceps_windows_match_pyemd(biceps_fatigue_dir):
    counts = np.loadtxt(biceps_fatigue_dir / "emg_fatigue_biceps_1000hz.txt")
    signal = counts - 2048
    windows = {f"biceps [{a}:{a + 2000}]": signal[a : a + 2000] for a in BICEPS_WINDOWS}
    n_exact, n_total, report = _check_exact_on(windows)
    assert n_exact >= 0.9 * n_total, report
    # the ensembles on a real window, too
    window = signal[5000:6000]
    for method in ("eemd", "ceemdan"):
        engine, reference = _compare(
            window, method=method, seed=0, emd_params={"trials": 5}
        )
        assert engine is not None and engine.shape[0] >= 3, method


# -------------------------------------------------------- synthetic edges
_rng = np.random.default_rng(20240501)
_t = np.arange(1000) / 1000.0
_zero_runs = _rng.standard_normal(1000)
_zero_runs[100:150] = 0.0
_zero_runs[400] = 0.0
_zero_runs[700:703] = 0.0
_zero_runs[-5:] = 0.0

EDGE_CASES = {
    "all_zero": np.zeros(500),
    "constant": np.full(500, 3.5),
    "negative_constant": np.full(300, -2.0),
    "length_1": np.array([3.0]),
    "length_2": np.array([1.0, -2.0]),
    "length_3": np.array([0.5, -1.0, 2.0]),
    "noise_16": _rng.standard_normal(16),
    "noise_20": _rng.standard_normal(20),
    "sine": np.sin(2 * np.pi * 10 * _t),
    "slow_sine": np.sin(2 * np.pi * 0.7 * _t),
    "half_sine": np.sin(np.pi * _t),
    "chirp": np.sin(2 * np.pi * (5 + 100 * _t) * _t),
    "ramp_plus_sine": 3 * _t + np.sin(2 * np.pi * 20 * _t),
    "two_tones": np.sin(2 * np.pi * 50 * _t) + 0.5 * np.sin(2 * np.pi * 5 * _t),
    "integer_plateaus": np.round(3 * _rng.standard_normal(1000)),
    "binary": _rng.integers(0, 2, 300).astype(float),
    "random_walk_steps": np.cumsum(_rng.integers(-1, 2, 400)).astype(float),
    "zeros_and_zero_runs": _zero_runs,
    "linear_trend": 2 * _t - 0.5,
    "quadratic": (_t - 0.5) ** 2,
    "step": np.where(_t < 0.5, -1.0, 1.0),
    "noisy_step": np.where(_t < 0.5, -1.0, 1.0) + 0.01 * _rng.standard_normal(1000),
    # these two sift to MAX_ITERATION: short, since PyEMD is slow there
    "square_wave": np.sign(np.sin(2 * np.pi * 4 * _t[:200])),
    "tiny_scale": 1e-12 * _rng.standard_normal(100),
    "impulse": np.eye(1, 500, 250)[0],
    "huge_scale": 1e12 * _rng.standard_normal(500),
}


@pytest.mark.parametrize("max_imf", [10, -1, 1])
@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_match_pyemd(name, max_imf):
    signal = EDGE_CASES[name]
    if signal.size >= 3:  # shorter: the kernel hands over to PyEMD
        assert _kernel_status(signal, max_imf) == _emd_numba.STATUS_OK
    engine, reference = _compare(signal, max_imf=max_imf)
    if engine is not None:
        assert _max_diff(engine, reference) == 0.0  # bit for bit in practice


def test_edge_case_outcomes():
    """What PyEMD (hence the engine) gives on the simplest inputs."""
    assert decompose(np.zeros(500), backend="numba").shape == (0, 500)
    flat = decompose(np.full(500, 3.5), backend="numba")
    np.testing.assert_array_equal(flat, np.full((1, 500), 3.5))
    sine = EDGE_CASES["sine"]
    one = decompose(sine, backend="numba")
    assert one.shape == (1, sine.size)  # one IMF, a residue too small to keep
    np.testing.assert_allclose(one[0], sine, atol=1e-8)
    # the rows add up to the signal
    for name in ("chirp", "zeros_and_zero_runs", "integer_plateaus"):
        x = EDGE_CASES[name]
        np.testing.assert_allclose(
            decompose(x, backend="numba", max_imf=-1).sum(axis=0), x, atol=1e-8
        )
    # PyEMD fails on a single sample and on an empty signal; so does the engine
    _, exc = _compare(np.array([3.0]))
    assert isinstance(exc, ValueError)
    _, exc = _compare(np.array([]))
    assert isinstance(exc, IndexError)


def test_small_integer_signals_match_pyemd():
    """Short signals of a few integer levels: plateaus, ties between an edge
    and the nearest extremum, exact zeros; the cases where a port's edge and
    plateau rules go wrong."""
    rng = np.random.default_rng(3)
    failures = []
    for i in range(150):
        n = int(rng.integers(3, 60))
        if i % 3 == 0:
            signal = rng.integers(-2, 3, n).astype(float)
        elif i % 3 == 1:  # a random walk: long plateaus
            signal = np.cumsum(rng.integers(-1, 2, n)).astype(float)
        else:
            signal = np.round(2 * rng.standard_normal(n))
        assert _kernel_status(signal, -1) == _emd_numba.STATUS_OK, signal
        engine = decompose(signal, backend="numba", max_imf=-1)
        reference = decompose(signal, backend="pyemd", max_imf=-1)
        if engine.shape != reference.shape or _max_diff(engine, reference) > 0:
            failures.append(signal.tolist())
    assert not failures, failures


_NON_FINITE = {
    "inf_inside": np.r_[np.zeros(3), np.sin(np.arange(60.0)), np.inf, np.ones(3)],
    "minus_inf_extremum": np.array([0.0, 1, 0, -1, 0, -np.inf, 0, -1, 0, 1, 0]),
    "nan_first_sample": np.r_[np.nan, np.sin(0.3 * np.arange(1, 200))],
}


@pytest.mark.parametrize("name", list(_NON_FINITE))
def test_non_finite_knots_raise_as_pyemd(name):
    """An inf or NaN among the spline knots: PyEMD's CubicSpline raises, and
    the engine hands the signal to PyEMD, which raises the same way."""
    signal = _NON_FINITE[name]
    with warnings.catch_warnings():
        # PyEMD's own arithmetic on inf warns before CubicSpline raises
        warnings.simplefilter("ignore", RuntimeWarning)
        for backend in ("pyemd", "numba"):
            with pytest.raises(ValueError, match="finite"):
                decompose(signal, backend=backend)
    assert _kernel_status(signal) == _emd_numba.STATUS_DEFER


def test_nan_between_extrema_matches_pyemd():
    """A NaN that is not a knot propagates the same way in both."""
    signal = np.random.default_rng(0).standard_normal(150)
    signal[75] = np.nan
    kw = dict(max_imf=3, emd_params={"MAX_ITERATION": 50})  # PyEMD is slow here
    engine = decompose(signal, backend="numba", **kw)
    reference = decompose(signal, backend="pyemd", **kw)
    assert np.isnan(reference).any()
    np.testing.assert_array_equal(engine, reference)  # NaN where PyEMD has NaN


_CHIRP_NOISE = EDGE_CASES["chirp"] + 0.1 * np.random.default_rng(1).standard_normal(
    1000
)


@pytest.mark.parametrize(
    "params",
    [
        {"FIXE": 3},
        {"FIXE_H": 2},
        {"MAX_ITERATION": 5},
        {"nbsym": 1},
        {"nbsym": 4},
        {"std_thr": 0.05, "svar_thr": 1e-4, "energy_ratio_thr": 0.05},
        {"range_thr": 0.5, "total_power_thr": 50.0},
    ],
)
def test_emd_params_honoured_identically(params):
    engine, reference = _compare(_CHIRP_NOISE, emd_params=params, max_imf=-1)
    assert _max_diff(engine, reference) == 0.0
    default = decompose(_CHIRP_NOISE, backend="numba", max_imf=-1)
    assert _differ(engine, default), "the setting had no effect"


# ------------------------------------------------------ EEMD and CEEMDAN
_ENSEMBLE_SIGNAL = np.sin(2 * np.pi * 40 * _t[:500]) * (
    1 + 0.5 * np.sin(2 * np.pi * 2 * _t[:500])
) + 0.3 * np.random.default_rng(7).standard_normal(500)


@pytest.mark.parametrize("seed", [0, 1, 12345])
@pytest.mark.parametrize("method", ["eemd", "ceemdan"])
def test_ensembles_match_pyemd(method, seed):
    engine, reference = _compare(
        _ENSEMBLE_SIGNAL, method=method, seed=seed, emd_params={"trials": 10}
    )
    assert engine is not None and engine.shape[0] >= 3
    assert _max_diff(engine, reference) == 0.0


@pytest.mark.parametrize("method", ["eemd", "ceemdan"])
def test_ensemble_seeds(method):
    def run(seed):
        return decompose(
            _ENSEMBLE_SIGNAL,
            method=method,
            seed=seed,
            emd_params={"trials": 10},
            backend="numba",
        )

    first = run(3)
    np.testing.assert_array_equal(run(3), first)
    assert _differ(run(4), first)
    assert _differ(run(None), run(None))  # fresh noise without a seed
    # method matters
    assert _differ(first, decompose(_ENSEMBLE_SIGNAL, backend="numba"))


ENSEMBLE_PARAMS = [
    ("eemd", {"noise_kind": "uniform"}, 10),
    ("eemd", {"noise_width": 0.3}, 10),
    ("eemd", {"range_thr": 0.5}, 10),
    ("eemd", {"total_power_thr": 100.0}, 10),
    ("eemd", {"std_thr": 0.05, "nbsym": 3}, 10),
    ("eemd", {}, 2),
    ("ceemdan", {"noise_kind": "uniform"}, 10),
    ("ceemdan", {"epsilon": 0.05}, 10),
    ("ceemdan", {"range_thr": 0.5}, 10),
    ("ceemdan", {"total_power_thr": 100.0}, 10),
    ("ceemdan", {"beta_progress": False, "noise_scale": 0.5}, 10),
    ("ceemdan", {"max_imf": 2}, -1),
    ("ceemdan", {}, 2),
]


@pytest.mark.parametrize(("method", "extra", "max_imf"), ENSEMBLE_PARAMS)
def test_ensemble_params_honoured_identically(method, extra, max_imf):
    params = {"trials": 10, **extra}
    engine, reference = _compare(
        _ENSEMBLE_SIGNAL, method=method, seed=2, emd_params=params, max_imf=max_imf
    )
    assert _max_diff(engine, reference) == 0.0
    default = decompose(
        _ENSEMBLE_SIGNAL,
        method=method,
        seed=2,
        emd_params={"trials": 10},
        backend="numba",
    )
    assert _differ(engine, default), "the setting had no effect"
    if max_imf > 0:
        assert engine.shape[0] <= max_imf + 1
    if "max_imf" in extra:  # CEEMDAN's own cap on its loop over components
        assert engine.shape[0] < default.shape[0]
        assert engine.shape[0] <= extra["max_imf"] + 2


def test_ceemdan_own_seed_param():
    params = {"trials": 10, "seed": 5}
    engine, reference = _compare(_ENSEMBLE_SIGNAL, method="ceemdan", emd_params=params)
    assert _max_diff(engine, reference) == 0.0
    again = decompose(
        _ENSEMBLE_SIGNAL, method="ceemdan", emd_params=params, backend="numba"
    )
    np.testing.assert_array_equal(again, engine)


# ------------------------------------------------ the kernel's building blocks
@pytest.mark.parametrize("lo", [0, 3])
def test_pairwise_sum_is_numpys(lo):
    """Every stopping threshold sees numpy's pairwise sum, not a naive one."""
    rng = np.random.default_rng(5)
    for n in [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 1000, 1024, 4097, 10007]:
        a = rng.standard_normal(n + lo + 2) * 1e3 + 1e8  # order matters here
        got = _emd_numba._pairwise_sum(a, lo, n)
        assert got == np.sum(a[lo : lo + n]), n
        assert _emd_numba._pairwise_sum(a**2, lo, n) == np.sum(a[lo : lo + n] ** 2)


def test_find_extrema_is_pyemds():
    """Maxima, minima and zero crossings as ``EMD._find_extrema_simple``,
    on small integer signals full of plateaus and exact zeros."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(3, 60))
        signal = rng.integers(-2, 3, n).astype(float)
        work = [np.empty(n, dtype=np.int64) for _ in range(6)]
        n_max, n_min, n_zero = _emd_numba._find_extrema(signal, np.empty(n), *work)
        max_pos, _, min_pos, _, zeros = EMD._find_extrema_simple(
            np.arange(n, dtype=float), signal
        )
        np.testing.assert_array_equal(work[0][:n_max], max_pos, err_msg=str(signal))
        np.testing.assert_array_equal(work[1][:n_min], min_pos, err_msg=str(signal))
        assert n_zero == len(zeros), signal


# --------------------------------------------------------- the defer path
def test_deferred_kernel_runs_pyemd(monkeypatch):
    signal = EDGE_CASES["chirp"] + 0.1 * EDGE_CASES["noisy_step"]
    expected_emd = decompose(signal, backend="pyemd")
    eemd_kw = dict(method="eemd", seed=1, emd_params={"trials": 4})
    expected_eemd = decompose(signal, backend="pyemd", **eemd_kw)

    calls = {"kernel": 0, "pyemd": 0}

    def deferring_kernel(S, max_imf, *config):
        calls["kernel"] += 1
        return np.zeros((1, S.shape[0])), _emd_numba.STATUS_DEFER

    original_emd = EMD.emd

    def counting_emd(self, *args, **kwargs):
        calls["pyemd"] += 1
        return original_emd(self, *args, **kwargs)

    monkeypatch.setattr(_emd_numba, "emd_kernel", deferring_kernel)
    monkeypatch.setattr(EMD, "emd", counting_emd)

    got = decompose(signal, backend="numba")
    assert calls == {"kernel": 1, "pyemd": 1}
    np.testing.assert_array_equal(got, expected_emd)

    got = decompose(signal, backend="numba", **eemd_kw)
    assert calls == {"kernel": 5, "pyemd": 5}  # one per trial
    np.testing.assert_array_equal(got, expected_eemd)


def test_real_input_the_kernel_defers():
    """Two samples: the kernel defers (PyEMD's own handling), PyEMD answers."""
    signal = np.array([1.0, -2.0])
    config = _EngineEMD({})._config
    _, status = _emd_numba.emd_kernel(signal, 10, *config)
    assert status == _emd_numba.STATUS_DEFER
    engine, reference = _compare(signal)
    np.testing.assert_array_equal(engine, EMD().emd(signal, max_imf=10))
    # a normal signal does not defer
    _, status = _emd_numba.emd_kernel(EDGE_CASES["chirp"], 10, *config)
    assert status == _emd_numba.STATUS_OK


# -------------------------------------------------------------- bad input
def test_unknown_backend():
    with pytest.raises(ValueError, match="'backend'") as info:
        decompose(EDGE_CASES["sine"], backend="gpu")
    message = str(info.value)
    assert "'gpu'" in message
    for name in BACKENDS:
        assert repr(name) in message


def test_unknown_emd_param():
    with pytest.raises(ValueError, match="emd_params") as info:
        decompose(EDGE_CASES["sine"], method="eemd", emd_params={"trails": 10})
    message = str(info.value)
    assert "trails" in message and "EEMD" in message and "method='eemd'" in message
    # CEEMDAN's keys are not EMD's
    with pytest.raises(ValueError, match="epsilon"):
        decompose(EDGE_CASES["sine"], emd_params={"epsilon": 0.1})


@pytest.mark.parametrize(
    "params", [{"spline_kind": "akima"}, {"extrema_detection": "parabol"}]
)
def test_settings_the_engine_does_not_reproduce(params):
    signal = EDGE_CASES["noisy_step"] + EDGE_CASES["chirp"]
    (key,) = params
    with pytest.raises(ValueError, match=key):
        decompose(signal, emd_params=params, backend="numba")
    assert resolve_backend("auto", "emd", params) == "pyemd"
    auto = decompose(signal, emd_params=params, backend="auto")
    reference = decompose(signal, emd_params=params, backend="pyemd")
    np.testing.assert_array_equal(auto, reference)
    # the setting reached PyEMD: the result is not the cubic one
    assert _differ(auto, decompose(signal, backend="pyemd"))


# ------------------------------------------------ identical across processes
def test_bit_identical_in_a_fresh_process(tmp_path):
    rng = np.random.default_rng(99)
    signal = rng.standard_normal(1500) * (1 + np.sin(np.linspace(0, 6, 1500)))
    np.save(tmp_path / "signal.npy", signal)
    code = textwrap.dedent(
        f"""
        import numpy as np
        from sklearn_semg.hht import decompose
        x = np.load({str(tmp_path / "signal.npy")!r})
        np.save({str(tmp_path / "emd.npy")!r}, decompose(x, backend="numba"))
        np.save(
            {str(tmp_path / "ceemdan.npy")!r},
            decompose(x, method="ceemdan", seed=4, emd_params={{"trials": 4}},
                      backend="numba"),
        )
        """
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, timeout=300
    )
    np.testing.assert_array_equal(
        np.load(tmp_path / "emd.npy"), decompose(signal, backend="numba")
    )
    ceemdan = decompose(
        signal, method="ceemdan", seed=4, emd_params={"trials": 4}, backend="numba"
    )
    np.testing.assert_array_equal(np.load(tmp_path / "ceemdan.npy"), ceemdan)
