"""read_recording and load_recordings: EDF, BDF, WFDB and text files.

Real MuscleTracker recordings (../shared/data) are written into each format
with the format's own writer (pyedflib, wfdb) and read back. The EDF/BDF and
WFDB tests skip when the optional readers (``sklearn-semg[formats]``) are
absent; the text and error tests do not need them.
"""

import math
import sys

import numpy as np
import pytest

from sklearn_semg import EMGFeatures, HHTTransformer
from sklearn_semg.datasets import load_recordings, read_recording
from sklearn_semg.preprocessing import window_recordings

#: Sampling rate of MuscleTracker, as used by the authors' code.
FS = 1001
NAMES = ("FDS", "EDC")
EXTRA = 'needs the optional readers: pip install "sklearn-semg[formats]"'


def _real(muscletracker_dir, device="Biopac", name="1_1_1.txt"):
    """A real two-channel recording, ``(2, n_times)``, read with numpy alone."""
    file = muscletracker_dir / "Data" / "Raw" / device / name
    return np.loadtxt(file, delimiter="," if device == "Biopac" else None).T


def _write_edf(file, signals, *, names=NAMES, unit="mV", rates=None):
    """Write ``signals`` (one array per channel) with pyedflib; return the
    quantisation step of each channel, (physical range) / (digital range)."""
    pytest.importorskip("pyedflib", reason=EXTRA)
    from pyedflib import highlevel

    digital_max = 2**23 - 1 if file.suffix == ".bdf" else 2**15 - 1
    rates = [FS] * len(names) if rates is None else rates
    headers, steps = [], []
    for name, x, rate in zip(names, signals, rates, strict=True):
        # 3 significant digits: the 8-character EDF header field stores it exactly
        bound = float(f"{1.1 * np.abs(x).max():.3g}")
        headers.append(
            highlevel.make_signal_header(
                name,
                dimension=unit,
                sample_frequency=rate,
                physical_min=-bound,
                physical_max=bound,
                digital_min=-digital_max - 1,
                digital_max=digital_max,
            )
        )
        steps.append(2 * bound / (2 * digital_max + 1))
    signals = [np.ascontiguousarray(x, dtype=np.float64) for x in signals]
    assert highlevel.write_edf(str(file), signals, headers)
    return np.asarray(steps)


def _write_wfdb(folder, record, data, *, fs=FS, names=NAMES, units=("mV", "mV")):
    """Write ``data`` (n_channels, n_times) as a WFDB format-16 record; return
    the quantisation step of each channel, 1 / adc_gain."""
    wfdb = pytest.importorskip("wfdb", reason=EXTRA)
    wfdb.wrsamp(
        record,
        fs=fs,
        units=list(units),
        sig_name=list(names),
        p_signal=np.ascontiguousarray(data.T),
        fmt=["16"] * len(names),
        write_dir=str(folder),
    )
    return 1 / np.asarray(wfdb.rdheader(str(folder / record)).adc_gain)


# ---------------------------------------------------------------- EDF / BDF


@pytest.mark.parametrize(
    "suffix, device, unit",
    [(".edf", "Biopac", "mV"), (".bdf", "Biopac", "mV"), (".edf", "Miotracker", "")],
)
def test_edf_bdf_round_trip(muscletracker_dir, tmp_path, suffix, device, unit):
    x = _real(muscletracker_dir, device)
    file = tmp_path / f"rec{suffix}"
    steps = _write_edf(file, x, unit=unit)
    rec = read_recording(file)

    assert rec.format == suffix[1:]
    assert rec.fs == FS and rec.channel_names == list(NAMES)
    assert rec.units == ([unit, unit] if unit else [None, None])
    assert rec.path == str(file) and rec.data.dtype == np.float64
    # EDF stores whole 1 s data records: the writer pads the last one
    n_times = x.shape[1]
    assert rec.data.shape == (2, math.ceil(n_times / FS) * FS)
    # pyedflib's writer truncates to the digital grid: within one step
    error = np.abs(rec.data[:, :n_times] - x).max(axis=1)
    assert np.all(error <= steps * (1 + 1e-6)), (error, steps)
    if suffix == ".bdf":  # 24 bits: 256 times finer than EDF's 16
        assert np.all(error < np.abs(x).max(axis=1) * 1e-6)


def test_edf_channel_selection(muscletracker_dir, tmp_path):
    x = _real(muscletracker_dir)
    file = tmp_path / "rec.edf"
    _write_edf(file, x)
    full = read_recording(file).data
    for channels, rows, names in [
        (["EDC"], [1], ["EDC"]),
        ("FDS", [0], ["FDS"]),
        ([1, 0], [1, 0], ["EDC", "FDS"]),
        ([np.int64(1), "FDS"], [1, 0], ["EDC", "FDS"]),
    ]:
        rec = read_recording(file, channels=channels)
        assert rec.channel_names == names
        np.testing.assert_array_equal(rec.data, full[rows])


def test_edf_mixed_sampling_rates(muscletracker_dir, tmp_path):
    x = _real(muscletracker_dir)
    n = 2 * (x.shape[1] // 2)
    signals = [x[0, :n], x[1, :n:2], x[1, :n]]
    file = tmp_path / "mixed.edf"
    _write_edf(file, signals, names=("A", "B", "C"), rates=[1000, 500, 1000])
    with pytest.raises(ValueError, match="different rates") as info:
        read_recording(file)
    message = str(info.value)
    assert str(file) in message
    assert "'A': 1000 Hz, 'B': 500 Hz, 'C': 1000 Hz" in message
    assert "channels=['A', 'C']" in message
    with pytest.raises(ValueError, match="'B': 500 Hz"):
        read_recording(file, channels=["A", "B"])

    rec = read_recording(file, channels=["A", "C"])
    assert rec.fs == 1000 and rec.channel_names == ["A", "C"]
    assert rec.data.shape == (2, math.ceil(n / 1000) * 1000)
    slow = read_recording(file, channels="B")
    assert slow.fs == 500 and slow.data.shape[1] == rec.data.shape[1] // 2


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_edf_names_the_file(muscletracker_dir, tmp_path, damage):
    file = tmp_path / "broken.edf"
    _write_edf(file, _real(muscletracker_dir))
    content = file.read_bytes()
    if damage == "truncated":
        file.write_bytes(content[:-1000])
    else:
        file.write_bytes(b"not an EDF file " * 64)
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        read_recording(file)
    assert repr(str(file)) in str(info.value)


# ---------------------------------------------------------------------- WFDB


def test_wfdb_round_trip(muscletracker_dir, tmp_path):
    x = _real(muscletracker_dir)
    steps = _write_wfdb(tmp_path, "s1_1_1", x, units=("mV", "uV"))
    for path in ["s1_1_1.hea", "s1_1_1.dat", "s1_1_1"]:
        rec = read_recording(tmp_path / path)
        assert rec.format == "wfdb" and rec.fs == FS
        assert rec.channel_names == list(NAMES) and rec.units == ["mV", "uV"]
        assert rec.data.shape == x.shape
        # wfdb rounds to the nearest digital value: half a step
        error = np.abs(rec.data - x).max(axis=1)
        assert np.all(error <= steps / 2 * (1 + 1e-6)), (error, steps)

    rec = read_recording(tmp_path / "s1_1_1", channels=["EDC", 0])
    assert rec.channel_names == ["EDC", "FDS"] and rec.units == ["uV", "mV"]
    np.testing.assert_allclose(rec.data, x[[1, 0]], atol=steps.max())


def test_wfdb_truncated_signal_file(muscletracker_dir, tmp_path):
    _write_wfdb(tmp_path, "rec", _real(muscletracker_dir))
    dat = tmp_path / "rec.dat"
    dat.write_bytes(dat.read_bytes()[:1001])
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        read_recording(tmp_path / "rec.hea")
    assert str(tmp_path / "rec") in str(info.value)


@pytest.mark.parametrize("fmt", ["edf", "wfdb"])
def test_conflicting_fs(muscletracker_dir, tmp_path, fmt):
    x = _real(muscletracker_dir)
    if fmt == "edf":
        file = tmp_path / "rec.edf"
        _write_edf(file, x)
    else:
        _write_wfdb(tmp_path, "rec", x)
        file = tmp_path / "rec.hea"
    assert read_recording(file, fs=FS).fs == FS  # agreeing fs is accepted
    with pytest.raises(ValueError, match=r"fs=1000 disagrees .* 1001 Hz") as info:
        read_recording(file, fs=1000)
    assert "leave fs=None" in str(info.value)


# ---------------------------------------------------------------------- text


@pytest.mark.parametrize("device", ["Miotracker", "Biopac"])
def test_real_text_files(muscletracker_dir, device):
    file = muscletracker_dir / "Data" / "Raw" / device / "1_1_1.txt"
    rec = read_recording(file, fs=FS)
    np.testing.assert_array_equal(rec.data, _real(muscletracker_dir, device))
    assert rec.format == "txt" and rec.fs == FS
    assert rec.channel_names == ["ch1", "ch2"] and rec.units == [None, None]
    second = read_recording(file, fs=FS, channels="ch2")
    np.testing.assert_array_equal(second.data, rec.data[1:])


@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_csv_header_units_and_delimiters(tmp_path, sep):
    # whitespace splits "FDS [mV]": there the unit is written "FDS[mV]"
    space = "" if sep == " " else " "
    lines = [
        "# exported by hand",
        sep.join([f"FDS{space}[mV]", f"EDC{space}[uV]", "trigger"]),
        sep.join(["0.5", "10", "0"]),
        "",
        sep.join(["-0.25", "20", "1"]) + "  # a comment",
        sep.join(["1e-3", "-3", "0"]),
    ]
    file = tmp_path / "rec.csv"
    file.write_text("\n".join(lines) + "\n")
    rec = read_recording(file, fs=2000)
    assert rec.format == "csv" and rec.fs == 2000.0
    assert rec.channel_names == ["FDS", "EDC", "trigger"]
    assert rec.units == ["mV", "uV", None]
    np.testing.assert_array_equal(
        rec.data, [[0.5, -0.25, 1e-3], [10, 20, -3], [0, 1, 0]]
    )
    assert read_recording(file, fs=2000, delimiter=sep).channel_names == [
        "FDS",
        "EDC",
        "trigger",
    ]


def test_csv_header_options(tmp_path):
    file = tmp_path / "rec.csv"
    file.write_text("\ufeffa,b\n1,2\n3,4\n")  # a byte-order mark, as Excel writes
    assert read_recording(file, fs=1).channel_names == ["a", "b"]
    with pytest.raises(ValueError, match=r"line 1: 'a' is not a number.*header='auto'"):
        read_recording(file, fs=1, header=False)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("1,2\n3,4\n5,6\n")
    rec = read_recording(numbers, fs=1, header=True)  # first row taken as names
    assert rec.channel_names == ["1", "2"] and rec.data.shape == (2, 2)
    assert read_recording(numbers, fs=1).data.shape == (2, 3)


@pytest.mark.parametrize(
    "text, match",
    [
        ("a,b\n1,2\n3,nan\n", r"NaN in channel 'b' \(index 1\) at sample 1 .*line 3"),
        (
            "1,2\n-inf,4\n",
            r"an infinite value in channel 'ch1' \(index 0\) at sample 1",
        ),
        ("a,b\n1,2\n3\n", r"line 3: 1 column\(s\) where 2 are expected"),
        ("a,b\n1,2\n3,x\n", r"line 3: 'x' is not a number"),
        ("a,b,c\n1,2\n", r"3 channel name\(s\) in its header row"),
        ("a,b\n", r"header row \(line 1\) but no rows"),
        ("# nothing\n\n", "holds no rows"),
    ],
)
def test_bad_text_files(tmp_path, text, match):
    file = tmp_path / "bad.csv"
    file.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        read_recording(file, fs=1000)
    assert repr(str(file)) in str(info.value)


def test_text_needs_fs(muscletracker_dir):
    file = muscletracker_dir / "Data" / "Raw" / "Miotracker" / "1_1_1.txt"
    with pytest.raises(ValueError, match="fs is required for text files") as info:
        read_recording(file)
    assert str(file) in str(info.value)


# -------------------------------------------------------- errors of any kind


def test_unknown_channel(tmp_path):
    file = tmp_path / "rec.csv"
    file.write_text("FDS,EDC\n1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"no channel named 'FDs'") as info:
        read_recording(file, fs=1000, channels=["FDs"])
    assert "available channels: ['FDS', 'EDC']" in str(info.value)
    assert "Did you mean 'FDS'?" in str(info.value)
    with pytest.raises(ValueError, match=r"index 2, but .* indices 0 to 1"):
        read_recording(file, fs=1000, channels=[2])
    with pytest.raises(ValueError, match="more than once"):
        read_recording(file, fs=1000, channels=["FDS", 0])
    with pytest.raises(TypeError, match="names .str. or indices .int.; got float"):
        read_recording(file, fs=1000, channels=[0.0])
    with pytest.raises(ValueError, match="channels is empty"):
        read_recording(file, fs=1000, channels=[])


def test_unknown_channel_edf(muscletracker_dir, tmp_path):
    file = tmp_path / "rec.edf"
    _write_edf(file, _real(muscletracker_dir))
    with pytest.raises(ValueError, match=r"available channels: \['FDS', 'EDC'\]"):
        read_recording(file, channels="emg")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"fs": -1}, ValueError, "fs must be a positive number; got -1"),
        ({"fs": "1000"}, ValueError, "fs must be a positive number; got '1000'"),
        ({"header": "yes"}, ValueError, "header must be 'auto', True or False"),
        ({"delimiter": ""}, ValueError, "delimiter must be None"),
    ],
)
def test_bad_parameters(tmp_path, kwargs, error, match):
    file = tmp_path / "rec.csv"
    file.write_text("1,2\n3,4\n")
    with pytest.raises(error, match=match):
        read_recording(file, **({"fs": 1000} | kwargs))


def test_unknown_extension_and_missing_files(tmp_path):
    xlsx = tmp_path / "rec.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match=r"unsupported extension '\.xlsx'") as info:
        read_recording(xlsx)
    assert ".edf or .bdf" in str(info.value) and str(xlsx) in str(info.value)
    for name in ["missing.edf", "missing.csv", "missing"]:
        with pytest.raises(FileNotFoundError, match="missing"):
            read_recording(tmp_path / name)
    (tmp_path / "orphan.dat").write_bytes(b"\0" * 8)
    with pytest.raises(FileNotFoundError, match=r"WFDB header not found.*orphan\.hea"):
        read_recording(tmp_path / "orphan.dat")
    (tmp_path / "data.edf").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_recording(tmp_path / "data.edf")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        read_recording(3)


@pytest.mark.parametrize(
    "module, name, content",
    [
        ("pyedflib", "rec.edf", b"0       "),
        ("pyedflib", "rec.bdf", b"\xffBIOSEMI"),
        ("wfdb", "rec.hea", b"rec 1 1000 10\n"),
    ],
)
def test_missing_optional_dependency(tmp_path, monkeypatch, module, name, content):
    monkeypatch.setitem(sys.modules, module, None)  # import now fails
    file = tmp_path / name
    file.write_bytes(content)
    with pytest.raises(ImportError, match=r'pip install "sklearn-semg\[formats\]"'):
        read_recording(file)


# ------------------------------------------------------------ load_recordings


def test_load_recordings(muscletracker_dir, tmp_path):
    originals = [_real(muscletracker_dir, "Biopac", f"1_1_{m}.txt") for m in (1, 2)]
    steps = [_write_edf(tmp_path / f"rec{i}.edf", x) for i, x in enumerate(originals)]
    (tmp_path / "notes.md").write_text("not a recording")

    recs = load_recordings(tmp_path)
    assert recs.files == [str(tmp_path / "rec0.edf"), str(tmp_path / "rec1.edf")]
    assert recs.fs == FS and recs.channel_names == list(NAMES)
    assert recs.units == ["mV", "mV"]
    for data, x, step in zip(recs.data, originals, steps, strict=True):
        assert np.all(np.abs(data[:, : x.shape[1]] - x).max(axis=1) <= step * 1.001)
    # a list keeps its order; channels= applies to every file
    files = [tmp_path / "rec1.edf", tmp_path / "rec0.edf"]
    listed = load_recordings(files, channels=["EDC"])
    assert listed.files == [str(f) for f in files] and listed.channel_names == ["EDC"]

    # a file sampled at another rate: an error names it (nothing is skipped)
    _write_edf(tmp_path / "rec2.edf", originals[0], rates=[1000, 1000])
    with pytest.raises(ValueError, match=r"rec2\.edf' has fs=1000\.0 but the first"):
        load_recordings(tmp_path)
    assert len(load_recordings(tmp_path, pattern="rec[01].edf").data) == 2
    with pytest.raises(ValueError, match=r"has channel_names=\['a'\]"):
        (tmp_path / "other.csv").write_text("a\n1\n2\n")
        load_recordings([tmp_path / "rec0.edf", tmp_path / "other.csv"], fs=FS)


def test_load_recordings_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Folder not found"):
        load_recordings(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="No file with an extension"):
        load_recordings(tmp_path)
    with pytest.raises(ValueError, match="No file matching pattern='\\*.edf'"):
        load_recordings(tmp_path, pattern="*.edf")
    with pytest.raises(ValueError, match="empty list"):
        load_recordings([])
    with pytest.raises(ValueError, match="pattern selects files in a folder"):
        load_recordings([tmp_path / "a.csv"], pattern="*.csv")


def test_edf_recordings_end_to_end(muscletracker_dir, tmp_path):
    """EDF files of real recordings -> windows -> features, as from the text."""
    movements = [1, 2, 3, 4, 5]
    originals = []
    for m in movements:
        x = _real(muscletracker_dir, "Miotracker", f"1_1_{m}.txt")
        _write_edf(tmp_path / f"1_1_{m}.edf", x, unit="")
        originals.append(x)
    recs = load_recordings(tmp_path, pattern="*.edf")
    # cut off the padding of the last data record, as one would from the length
    # known elsewhere; without it the padded tail is simply more samples
    recs.data = [d[:, : x.shape[1]] for d, x in zip(recs.data, originals, strict=True)]

    windows = window_recordings(
        recs.data, fs=recs.fs, window_s=0.5, labels=movements, subjects=[1] * 5
    )
    reference = window_recordings(
        originals, fs=FS, window_s=0.5, labels=movements, subjects=[1] * 5
    )
    assert windows.data.shape == reference.data.shape
    assert windows.data.shape[1:] == (2, round(0.5 * FS))
    features = EMGFeatures(fs=recs.fs, features=["mav", "rms", "wl", "mnf", "mdf"])
    got = features.fit_transform(windows.data)
    expected = features.fit_transform(reference.data)
    assert got.shape == (windows.data.shape[0], 10) and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)
    # recordings of different lengths go straight into HHTTransformer too
    hht = HHTTransformer(fs=recs.fs, n_freq_bins=8, n_time_bins=8, max_imf=3)
    assert hht.fit_transform([d[:, :300] for d in recs.data[:2]]).shape == (
        2,
        2,
        8,
        8,
    )
