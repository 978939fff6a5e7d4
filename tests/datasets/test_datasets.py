"""Loaders of HHT folders, raw recordings and the bundled data set."""

import functools
import importlib.util
import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import welch

from sklearn_semg import HHTTransformer
from sklearn_semg.datasets import (
    MOVEMENT_NAMES,
    NPZ_NAME_LABELS,
    _hht_dir,
    load_biceps_fatigue,
    load_hht_dir,
    load_movements,
    load_muscletracker,
    load_recordings_dir,
    save_hht_dir,
)
from sklearn_semg.datasets._base import HHT_KEY, write_npz_atomic
from sklearn_semg.datasets._bundled import BUNDLED_FILE, BUNDLED_LICENSE_FILE
from sklearn_semg.datasets._hht_dir import parse_hht_filename

# the maintenance script that builds the bundled archive (not installed)
_spec = importlib.util.spec_from_file_location(
    "build_bundled", Path(__file__).resolve().parents[2] / "tools" / "build_bundled.py"
)
build_bundled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_bundled)

SHAPE = (8, 8)


def _matrices(n, shape=SHAPE, seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------
# File-name rules


@pytest.mark.parametrize(
    "name, label, muscle",
    [
        ("BICEPS_fatiguetest_M_006.npz", "M_full", "BICEPS"),
        ("TRICEPS_full_F_012.npz", "F_full", "TRICEPS"),
        ("FOREARM_half_M_003.npz", "M_half", "FOREARM"),
        ("DELTOID_invalid_F_008.npz", "F_invalid", "DELTOID"),
        ("BICEPS_wrong_M_002.npz", "M_invalid", "BICEPS"),
        ("calf-HALF-F-1.npz", "F_half", "calf"),
        # Priority: fatiguetest/full before half before invalid/wrong.
        ("X_fatiguetest_half_F_1.npz", "F_full", "X"),
        ("X_half_wrong_M_1.npz", "M_half", "X"),
    ],
)
def test_parse_hht_filename(name, label, muscle):
    info = parse_hht_filename(name)
    assert info["label"] == label
    assert info["muscle"] == muscle
    assert info["gender"] + "_" + info["movement"] == label


@pytest.mark.parametrize("name", ["Test_001.npz", "test-7.npz", "Testset_3.npz"])
def test_parse_test_names(name):
    assert parse_hht_filename(name) is None


@pytest.mark.parametrize(
    "name, reason",
    [
        # read as an unlabelled test file, and as F_full, before: now reported
        ("TESTING_full_M_4.npz", "starts with 'test'.*carries the label M_full"),
        ("BICEPS_full_F_M_3.npz", r"both genders \['F', 'M'\]"),
    ],
)
def test_ambiguous_names_are_reported(name, reason, tmp_path):
    with pytest.raises(ValueError, match="ambiguous name: .*" + reason):
        parse_hht_filename(name)
    # the loader skips them by name, with the reason
    save_hht_dir(tmp_path, _matrices(2), ["M_full", "F_half"], muscle="BICEPS")
    np.savez(tmp_path / name, **{HHT_KEY: _matrices(1)[0]})
    with pytest.warns(UserWarning, match="ambiguous name"):
        bunch = load_hht_dir(tmp_path, shape=_matrices(1)[0].shape)
    assert [n for n, _ in bunch.problems] == [name] and len(bunch.data) == 2


@pytest.mark.parametrize(
    "name, reason",
    [
        ("BICEPS_full_001.npz", "no gender"),
        ("BICEPS_fullM_001.npz", "no gender"),
        ("BICEPS_slow_M_001.npz", "no movement"),
    ],
)
def test_parse_unparseable_names(name, reason):
    with pytest.raises(ValueError, match=reason):
        parse_hht_filename(name)


# --------------------------------------------------------------------------
# save_hht_dir / load_hht_dir


def test_round_trip(tmp_path):
    X = _matrices(6)
    labels = ["M_full", "F_half", "M_invalid", "F_full", "M_half", "F_invalid"]
    paths = save_hht_dir(tmp_path, X[:4], labels[:4], muscle="biceps")
    paths += save_hht_dir(tmp_path, X[4:], labels[4:], muscle="Triceps", start_index=5)
    test_paths = save_hht_dir(tmp_path, X[:2] * 2)
    assert [p.name for p in paths] == [
        "BICEPS_full_M_001.npz",
        "BICEPS_half_F_002.npz",
        "BICEPS_invalid_M_003.npz",
        "BICEPS_full_F_004.npz",
        "TRICEPS_half_M_005.npz",
        "TRICEPS_invalid_F_006.npz",
    ]
    assert [p.name for p in test_paths] == ["Test_001.npz", "Test_002.npz"]
    assert all(p.parent == tmp_path for p in paths + test_paths)
    with np.load(paths[0]) as archive:
        assert archive.files == ["hht"]

    bunch = load_hht_dir(tmp_path, shape=SHAPE)
    assert bunch.data.dtype == np.float32 and bunch.data.shape == (6, *SHAPE)
    # Files are read in name order, which is not the save order.
    order = np.argsort([p.name for p in paths])
    assert order.tolist() == [3, 0, 1, 2, 4, 5]
    np.testing.assert_array_equal(bunch.data, X[order])
    np.testing.assert_array_equal(bunch.target, np.asarray(labels)[order])
    assert list(bunch.metadata.columns) == [
        "file",
        "muscle",
        "gender",
        "movement",
        "label",
    ]
    assert bunch.metadata["file"].tolist() == sorted(p.name for p in paths)
    assert bunch.metadata["muscle"].tolist() == ["BICEPS"] * 4 + ["TRICEPS"] * 2
    assert bunch.metadata["gender"].tolist() == ["F", "M", "F", "M", "M", "F"]
    assert bunch.metadata["movement"].tolist() == [
        "full",
        "full",
        "half",
        "invalid",
        "half",
        "invalid",
    ]
    assert bunch.target_names.tolist() == list(NPZ_NAME_LABELS)
    np.testing.assert_array_equal(bunch.test_data, X[:2] * 2)
    assert bunch.test_metadata["file"].tolist() == ["Test_001.npz", "Test_002.npz"]
    assert bunch.problems == []


def test_load_sorts_by_name(tmp_path):
    X = _matrices(3)
    save_hht_dir(tmp_path, X[2:], ["F_half"], muscle="C")
    save_hht_dir(tmp_path, X[:1], ["M_full"], muscle="A")
    save_hht_dir(tmp_path, X[1:2], ["M_half"], muscle="B")
    bunch = load_hht_dir(tmp_path, shape=SHAPE)
    assert bunch.metadata["file"].tolist() == [
        "A_full_M_001.npz",
        "B_half_M_001.npz",
        "C_half_F_001.npz",
    ]
    np.testing.assert_array_equal(bunch.data, X)


def test_hht_transformer_output_feeds_save_hht_dir(tmp_path, semg_factory):
    X, y = semg_factory(4, n_times=300, n_classes=2, seed=3)
    hht = HHTTransformer(fs=1000, n_freq_bins=8, n_time_bins=12)
    M = hht.fit_transform(X)
    assert M.shape == (4, 1, 8, 12)
    labels = np.where(y == 0, "M_full", "F_half")
    paths = save_hht_dir(tmp_path, M, labels)
    bunch = load_hht_dir(tmp_path, shape=(8, 12))
    order = np.argsort([p.name for p in paths])
    np.testing.assert_array_equal(bunch.data, M[order, 0])
    np.testing.assert_array_equal(bunch.target, labels[order])
    assert sorted(set(labels)) == ["F_half", "M_full"]
    # With the default 256x256 shape every file is reported, none is kept.
    with pytest.warns(UserWarning, match=r"has shape \(8, 12\), expected \(256, 256\)"):
        assert load_hht_dir(tmp_path).data.shape == (0, 256, 256)


def test_save_float64_is_stored_as_float32(tmp_path):
    X = np.random.default_rng(1).random((2, *SHAPE))
    (path,) = save_hht_dir(tmp_path, X[:1], ["F_full"])
    with np.load(path) as archive:
        assert archive["hht"].dtype == np.float32
    np.testing.assert_array_equal(
        load_hht_dir(tmp_path, shape=SHAPE).data, X[:1].astype(np.float32)
    )


def test_save_rejects_multichannel(tmp_path):
    X = np.zeros((3, 2, *SHAPE), dtype=np.float32)
    with pytest.raises(ValueError, match=r"X has 2 channels.*X\[:, 0\]"):
        save_hht_dir(tmp_path, X, ["M_full"] * 3)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((4, 4)), r"shape \(4, 4\)"),
        (np.zeros((0, 4, 4)), r"save_hht_dir: Found array with 0 sample\(s\)"),
        (np.full((2, 4, 4), np.nan), "X contains NaN or infinity .first in matrix 0"),
        (np.array([[["a"]]]), "X contains non-numeric values"),
    ],
)
def test_save_rejects_bad_arrays(tmp_path, X, match):
    with pytest.raises(ValueError, match=match):
        save_hht_dir(tmp_path, X)


def test_save_validates_labels(tmp_path):
    X = _matrices(2)
    with pytest.raises(ValueError, match=r"labels must be among .*got 'M_fast', 'x'"):
        save_hht_dir(tmp_path, X, ["x", "M_fast"])
    with pytest.raises(ValueError, match=r"one label per matrix \(2\)"):
        save_hht_dir(tmp_path, X, ["M_full"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "muscle, match",
    [
        ("BI_CEPS", "letters and digits"),
        ("", "letters and digits"),
        ("halfmoon", "contains 'half'"),
        ("Wrongly", "contains 'wrong'"),
        ("testmuscle", "starts with 'test'"),
    ],
)
def test_save_validates_muscle(tmp_path, muscle, match):
    with pytest.raises(ValueError, match=match):
        save_hht_dir(tmp_path, _matrices(1), ["M_half"], muscle=muscle)


def test_save_refuses_to_overwrite_and_checks_all_targets_first(tmp_path):
    X = _matrices(3)
    # Only the LAST target exists: nothing at all may be written.
    last = tmp_path / "SEMG_half_F_003.npz"
    last.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="SEMG_half_F_003.npz") as info:
        save_hht_dir(tmp_path, X, ["M_full", "M_half", "F_half"])
    assert "overwrite=True" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SEMG_half_F_003.npz"]
    assert last.read_bytes() == b"keep me"

    paths = save_hht_dir(tmp_path, X, ["M_full", "M_half", "F_half"], overwrite=True)
    # SEMG_full_M_001, SEMG_half_F_003, SEMG_half_M_002 in name order.
    np.testing.assert_array_equal(
        load_hht_dir(tmp_path, shape=SHAPE).data, X[[0, 2, 1]]
    )
    (test_path,) = save_hht_dir(tmp_path, X[:1])
    with pytest.raises(FileExistsError, match="Test_001.npz"):
        save_hht_dir(tmp_path, X[:1] + 1)
    np.testing.assert_array_equal(load_hht_dir(tmp_path, shape=SHAPE).test_data, X[:1])
    assert len(paths) == 3 and _leftovers(tmp_path) == []


def test_save_creates_folder(tmp_path):
    folder = tmp_path / "a" / "b"
    save_hht_dir(folder, _matrices(1))
    assert [p.name for p in folder.iterdir()] == ["Test_001.npz"]
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        save_hht_dir(file, _matrices(1))


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    X = _matrices(3)
    save_hht_dir(tmp_path, X, ["M_full", "F_full", "M_half"])
    assert _leftovers(tmp_path) == []
    assert len(list(tmp_path.iterdir())) == 3

    # A failure while writing the 2nd file (a full disk): all or nothing, so
    # not even the 1st appears, and no temporary file is left behind.
    real = np.savez_compressed
    calls = []

    def failing(file, **arrays):
        calls.append(1)
        if len(calls) == 2:
            file.write(b"PK partial")
            raise OSError("disk full")
        real(file, **arrays)

    monkeypatch.setattr(_hht_dir.np, "savez_compressed", failing)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        save_hht_dir(out, X, ["M_full", "F_full", "M_half"])
    assert sorted(p.name for p in out.iterdir()) == []
    # with overwrite=True, a failure puts every replaced file back
    calls.clear()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.npz")}
    with pytest.raises(OSError, match="disk full"):
        save_hht_dir(tmp_path, X[::-1], ["M_full", "F_full", "M_half"], overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.npz")} == before
    assert _leftovers(tmp_path) == []


def test_write_does_not_clobber_a_file_that_appears_meanwhile(tmp_path):
    # The target appears between the up-front check and the rename.
    target = tmp_path / "SEMG_full_M_001.npz"
    target.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError, match="appeared while writing"):
        write_npz_atomic(target, _matrices(1)[0], overwrite=False)
    assert target.read_bytes() == b"someone else's"
    assert _leftovers(tmp_path) == []


def _malformed_folder(folder):
    """A folder with good files and one file of each malformed kind."""
    X = _matrices(4)
    save_hht_dir(folder, X[:2], ["M_full", "F_invalid"], muscle="BICEPS")
    np.savez(folder / "DELTOID_half_M_010.npz", other=X[2], more=np.zeros(3))
    np.savez(folder / "DELTOID_wrong_F_011.npz", first=np.ones(SHAPE), hht=X[3])
    np.savez(folder / "Test_001.npz", hht=X[3])
    np.savez(folder / "test-extra.npz", X[0])
    (folder / "BICEPS_full_M_020.npz").write_bytes(b"PK\x03\x04 truncated zip")
    (folder / "BICEPS_half_F_021.npz").write_text("this is not an npz\n")
    np.savez(folder / "BICEPS_full_F_022.npz", hht=np.zeros((4, 4)))
    np.savez(folder / "BICEPS_nomove_M_023.npz", hht=X[0])
    np.savez(folder / "BICEPS_full_024.npz", hht=X[0])
    np.save(folder / "BICEPS_full_M_025.npy", X[0])
    os.replace(folder / "BICEPS_full_M_025.npy", folder / "BICEPS_full_M_025.npz")
    np.savez(folder / "TEST_bad.npz", hht=np.zeros(5))
    (folder / "notes.txt").write_text("ignored: not .npz")
    return X


EXPECTED_PROBLEMS = {
    "BICEPS_full_024.npz": "no gender",
    "BICEPS_full_F_022.npz": r"has shape (4, 4), expected (8, 8)",
    "BICEPS_full_M_020.npz": "unreadable: corrupt .npz archive",
    "BICEPS_full_M_025.npz": "single .npy array",
    "BICEPS_half_F_021.npz": "unreadable: not an .npz archive",
    "BICEPS_nomove_M_023.npz": "no movement",
    "TEST_bad.npz": "has shape (5,)",
}


def test_load_reports_each_malformed_file_in_one_warning(tmp_path):
    X = _malformed_folder(tmp_path)
    with pytest.warns(UserWarning) as record:
        bunch = load_hht_dir(tmp_path, shape=SHAPE)
    assert len(record) == 1
    message = str(record[0].message)
    assert f"skipped {len(EXPECTED_PROBLEMS)} file(s)" in message
    assert "strict=True" in message
    for name, reason in EXPECTED_PROBLEMS.items():
        line = next(line for line in message.splitlines() if name in line)
        assert reason in line, (name, line)
    assert record[0].filename == __file__  # points at the caller

    assert [name for name, _ in bunch.problems] == sorted(EXPECTED_PROBLEMS)
    for name, reason in bunch.problems:
        assert EXPECTED_PROBLEMS[name] in reason

    # Good files are kept; "hht" is read wherever it is in the archive, and a
    # missing "hht" key falls back to the first array.
    assert bunch.metadata["file"].tolist() == [
        "BICEPS_full_M_001.npz",
        "BICEPS_invalid_F_002.npz",
        "DELTOID_half_M_010.npz",
        "DELTOID_wrong_F_011.npz",
    ]
    np.testing.assert_array_equal(bunch.data, X)
    assert bunch.target.tolist() == ["M_full", "F_invalid", "M_half", "F_invalid"]
    # Test files (any case, any separator) are unlabelled.
    assert bunch.test_metadata["file"].tolist() == ["Test_001.npz", "test-extra.npz"]
    np.testing.assert_array_equal(bunch.test_data, X[[3, 0]])


def test_load_strict_raises_listing_every_problem(tmp_path):
    _malformed_folder(tmp_path)
    with pytest.raises(ValueError) as info:
        load_hht_dir(tmp_path, shape=SHAPE, strict=True)
    message = str(info.value)
    assert "strict=True" in message and "strict=False" in message
    for name, reason in EXPECTED_PROBLEMS.items():
        assert re.search(rf"{re.escape(name)}: .*{re.escape(reason)}", message)


def test_load_clean_folder_warns_nothing(tmp_path):
    save_hht_dir(tmp_path, _matrices(2), ["M_full", "M_half"])
    # pytest turns warnings into errors: any warning fails this test.
    bunch = load_hht_dir(tmp_path, shape=SHAPE, strict=True)
    assert bunch.problems == [] and bunch.test_data.shape == (0, *SHAPE)


def test_load_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_hht_dir(tmp_path / "nowhere")
    (tmp_path / "a.txt").write_text("1")
    with pytest.raises(ValueError, match=rf"No .npz file found in '{tmp_path}'"):
        load_hht_dir(tmp_path)
    with pytest.raises(NotADirectoryError, match="a.txt"):
        load_hht_dir(tmp_path / "a.txt")


@pytest.mark.parametrize("shape", [(256,), (0, 4), "256", (2.0, 3)])
def test_load_validates_shape(tmp_path, shape):
    with pytest.raises(ValueError, match="shape must be a pair of positive integers"):
        load_hht_dir(tmp_path, shape=shape)


def test_load_reports_non_finite_matrices(tmp_path):
    bad = np.zeros(SHAPE)
    bad[1, 2] = np.inf
    np.savez(tmp_path / "A_full_M_1.npz", hht=bad)
    np.savez(tmp_path / "A_full_F_2.npz", hht=np.zeros(SHAPE, dtype=int))
    with pytest.warns(UserWarning, match="A_full_M_1.npz: contains NaN or infinite"):
        bunch = load_hht_dir(tmp_path, shape=SHAPE)
    assert bunch.target.tolist() == ["F_full"]
    assert bunch.data.dtype == np.float32


# --------------------------------------------------------------------------
# Text recordings


def test_load_recordings_dir(tmp_path):
    (tmp_path / "a.txt").write_text("# header\n1 2\n3 4\n\n5 6\n")
    (tmp_path / "b.txt").write_text("0.5,1\n0.25,-2e3\n")
    (tmp_path / "c.txt").write_text("1\n2\n3\n4\n")
    (tmp_path / "d.csv").write_text("7,8\n")
    bunch = load_recordings_dir(tmp_path)
    assert bunch.filenames == ["a.txt", "b.txt", "c.txt"]
    np.testing.assert_array_equal(bunch.data[0], [[1, 3, 5], [2, 4, 6]])
    np.testing.assert_array_equal(bunch.data[1], [[0.5, 0.25], [1, -2000]])
    assert bunch.data[2].shape == (1, 4)
    assert all(x.dtype == np.float64 and x.flags.c_contiguous for x in bunch.data)
    assert bunch.metadata.to_dict("list") == {
        "file": ["a.txt", "b.txt", "c.txt"],
        "n_times": [3, 2, 4],
        "n_channels": [2, 2, 1],
    }
    assert load_recordings_dir(tmp_path, pattern="*.csv").filenames == ["d.csv"]


def test_load_recordings_dir_reports_unreadable_files(tmp_path):
    (tmp_path / "good.txt").write_text("1 2\n3 4\n")
    (tmp_path / "ragged.txt").write_text("1 2\n3\n")
    (tmp_path / "words.txt").write_text("a b\nc d\n")
    (tmp_path / "empty.txt").write_text("# only a comment\n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.warns(UserWarning) as record:
        bunch = load_recordings_dir(tmp_path)
    assert len(record) == 1
    message = str(record[0].message)
    for name in ["ragged.txt", "words.txt", "empty.txt", "binary.txt"]:
        assert name in message
    assert "empty.txt: holds no numeric rows" in message
    assert "binary.txt: unreadable (UnicodeDecodeError" in message
    assert "ragged.txt: not a table of numbers separated by whitespace" in message
    assert bunch.filenames == ["good.txt"]
    assert sorted(name for name, _ in bunch.problems) == [
        "binary.txt",
        "empty.txt",
        "ragged.txt",
        "words.txt",
    ]
    with pytest.raises(ValueError, match=r"strict=True.*4 file\(s\)"):
        load_recordings_dir(tmp_path, strict=True)


def test_load_recordings_dir_missing_or_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_recordings_dir(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"No file matching '\*.txt'"):
        load_recordings_dir(tmp_path)


def _fake_muscletracker(root, gender_csv=True):
    folder = root / "Data" / "Raw" / "Miotracker"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [("10_1_2.txt", 30), ("2_1_1.txt", 20), ("2_2_1.txt", 25)]:
        np.savetxt(folder / name, rng.integers(-9, 9, (n, 2)), fmt="%d")
    np.savetxt(folder / "2_1_6.txt", np.zeros((20, 2)), fmt="%d")  # movement 6
    np.savetxt(folder / "3_1_1.txt", np.zeros((20, 3)), fmt="%d")  # 3 columns
    (folder / "notes.txt").write_text("1 2\n")
    (folder / "4_1_1.txt").write_text("1 2\n3 x\n")
    if gender_csv:
        info = root / "Additional information"
        info.mkdir()
        (info / "Metadata.csv").write_text(
            "Participant,Age,Gender\n2,30,Female\n3,31,Male\n"
        )
    return root


def test_load_muscletracker_reports_unparseable_names(tmp_path):
    root = _fake_muscletracker(tmp_path)
    with pytest.warns(UserWarning) as record:
        bunch = load_muscletracker(root)
    assert len(record) == 1
    message = str(record[0].message)
    assert "2_1_6.txt: cannot parse the name" in message
    assert "notes.txt: cannot parse the name" in message
    assert "3_1_1.txt: has 3 column(s), expected 2" in message
    assert "4_1_1.txt: not a table of numbers" in message
    # Sorted by (subject, repetition, movement), numerically.
    assert bunch.metadata["file"].tolist() == ["2_1_1.txt", "2_2_1.txt", "10_1_2.txt"]
    assert bunch.groups.tolist() == [2, 2, 10]
    assert bunch.metadata["gender"].tolist() == ["F", "F", pd.NA]
    assert bunch.target.tolist() == [MOVEMENT_NAMES[0]] * 2 + [MOVEMENT_NAMES[1]]
    assert [x.shape for x in bunch.data] == [(2, 20), (2, 25), (2, 30)]
    with pytest.raises(ValueError, match=r"strict=True.*4 file\(s\)"):
        load_muscletracker(root, strict=True)


def test_load_muscletracker_without_metadata_warns(tmp_path):
    root = _fake_muscletracker(tmp_path, gender_csv=False)
    with pytest.warns(UserWarning, match="Metadata.csv' not found"):
        with pytest.warns(UserWarning, match="cannot parse the name"):
            bunch = load_muscletracker(root)
    assert bunch.metadata["gender"].isna().all()


def test_load_muscletracker_errors(tmp_path):
    with pytest.raises(ValueError, match=r"amplifier must be one of \['biopac', "):
        load_muscletracker(tmp_path, amplifier="myo")
    # the former name still works, with a FutureWarning
    with pytest.warns(FutureWarning, match="'device' was renamed 'amplifier'"):
        with pytest.raises(FileNotFoundError, match=r"Data/Raw/Biopac"):
            load_muscletracker(tmp_path, device="biopac")
    with pytest.raises(FileNotFoundError, match=r"Data/Raw/Biopac"):
        load_muscletracker(tmp_path, amplifier="biopac")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_muscletracker(tmp_path / "nowhere")


# --------------------------------------------------------------------------
# Real data (skipped with a reason when ../shared/data is absent)


@functools.cache
def _muscletracker(path, device):
    return load_muscletracker(path, amplifier=device, strict=True)


def test_muscletracker_miotracker(muscletracker_dir):
    bunch = _muscletracker(muscletracker_dir, "miotracker")
    meta = bunch.metadata
    assert len(bunch.data) == len(meta) == len(bunch.target) == 380
    assert meta["subject"].nunique() == 19
    assert (meta.groupby("subject").size() == 20).all()
    assert sorted(meta["movement"].unique()) == [1, 2, 3, 4, 5]
    assert {x.shape[0] for x in bunch.data} == {2}
    assert {x.dtype for x in bunch.data} == {np.dtype(np.float64)}
    n_times = np.array([x.shape[1] for x in bunch.data])
    np.testing.assert_array_equal(n_times, meta["n_times"])
    assert (n_times.min(), n_times.max()) == (1158, 3445)
    assert bunch.fs == 1001.0 and bunch.problems == []
    assert bunch.target_names.tolist() == list(MOVEMENT_NAMES)
    np.testing.assert_array_equal(bunch.groups, meta["subject"])
    np.testing.assert_array_equal(
        bunch.target, np.asarray(MOVEMENT_NAMES)[meta["movement"] - 1]
    )
    keys = meta[["subject", "repetition", "movement"]].to_numpy().tolist()
    assert keys == sorted(keys)
    assert meta["gender"].notna().all()
    assert set(meta.loc[meta["subject"] == 3, "gender"]) == {"F"}
    assert set(meta.loc[meta["subject"] == 1, "gender"]) == {"M"}
    # Independent oracle: the text file itself.
    i = meta.index[meta["file"] == "3_2_4.txt"][0]
    expected = np.loadtxt(muscletracker_dir / "Data/Raw/Miotracker/3_2_4.txt")
    np.testing.assert_array_equal(bunch.data[i], expected.T)
    assert "CC0" in bunch.DESCR and "1001" in bunch.DESCR


def test_muscletracker_biopac(muscletracker_dir):
    bunch = _muscletracker(muscletracker_dir, "biopac")
    meta = bunch.metadata
    assert len(bunch.data) == 445
    assert meta["subject"].nunique() == 30
    n_times = meta["n_times"]
    assert (n_times.min(), n_times.max()) == (3853, 6981)
    assert meta.loc[meta["subject"] > 19, "gender"].isna().all()
    assert meta.loc[meta["subject"] <= 19, "gender"].notna().all()
    assert max(np.abs(x).max() for x in bunch.data) < 5  # millivolts
    i = meta.index[meta["file"] == "7_1_4.txt"][0]
    expected = np.loadtxt(
        muscletracker_dir / "Data/Raw/Biopac/7_1_4.txt", delimiter=","
    )
    np.testing.assert_array_equal(bunch.data[i], expected.T)


def _write_ramp(folder, n):
    folder.mkdir()
    values = np.arange(n) % 4096
    np.savetxt(folder / "emg_fatigue_biceps_1000hz.txt", values, fmt="%d", header="x")
    return folder


def test_biceps_fatigue_label_rule(tmp_path):
    # 900 samples, windows of 100: T/3 = 300, 2T/3 = 600.
    folder = _write_ramp(tmp_path / "b", 900)
    bunch = load_biceps_fatigue(folder, window_seconds=0.1, stages="all", n_blocks=3)
    assert bunch.data.shape == (9, 1, 100)
    assert bunch.target.tolist() == ["early"] * 3 + ["middle"] * 3 + ["late"] * 3
    np.testing.assert_allclose(bunch.time, np.arange(9) * 0.1)
    np.testing.assert_array_equal(bunch.data[4, 0], np.arange(400, 500) - 2048)
    assert bunch.groups.tolist() == [0, 1, 2] * 3
    two = load_biceps_fatigue(folder, window_seconds=0.1, n_blocks=3)
    assert two.target.tolist() == ["early"] * 3 + ["late"] * 3
    assert two.metadata["window"].tolist() == [0, 1, 2, 6, 7, 8]
    assert two.target_names.tolist() == ["early", "late"]
    # A window straddling T/3 starts in the first third: early.
    straddle = load_biceps_fatigue(folder, window_seconds=0.18, n_blocks=1)
    assert straddle.metadata["start_s"].tolist() == [0.0, 0.18, 0.54, 0.72]
    assert straddle.target.tolist() == ["early", "early", "late", "late"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window_seconds": 0}, "window_seconds must be a positive"),
        ({"window_seconds": 0.5}, "up to a third of the recording"),
        ({"window_seconds": 0.001}, "16 samples"),
        ({"stages": "halves"}, "stages must be one of"),
        ({"window_seconds": 0.1, "n_blocks": 4}, "n_blocks=4 is more than the 3"),
        ({"n_blocks": 0}, "n_blocks must be a positive int"),
    ],
)
def test_biceps_fatigue_errors(tmp_path, kwargs, match):
    folder = _write_ramp(tmp_path / "b", 900)
    with pytest.raises(ValueError, match=match):
        load_biceps_fatigue(folder, **kwargs)


def test_biceps_fatigue_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="emg_fatigue_biceps_1000hz.txt"):
        load_biceps_fatigue(tmp_path)


def test_biceps_fatigue_real(biceps_fatigue_dir):
    bunch = load_biceps_fatigue(biceps_fatigue_dir)
    assert bunch.data.shape == (43, 1, 2000) and bunch.fs == 1000.0
    counts = bunch.metadata["stage"].value_counts().to_dict()
    assert counts == {"early": 22, "late": 21}
    early = bunch.target == "early"
    assert (bunch.time[early] < 126.9 / 3).all()
    assert (bunch.time[~early] + 2.0 > 2 * 126.9 / 3).all()
    raw = np.loadtxt(biceps_fatigue_dir / "emg_fatigue_biceps_1000hz.txt")
    np.testing.assert_array_equal(bunch.data[-1, 0], raw[124_000:126_000] - 2048)
    # Five consecutive blocks per stage, each group holds both stages.
    for stage in ("early", "late"):
        g = bunch.groups[bunch.target == stage]
        assert g.tolist() == sorted(g.tolist()) and set(g) == set(range(5))
    # The fatigue signature: the median frequency falls from early to late.
    freqs, power = welch(bunch.data[:, 0], fs=bunch.fs, nperseg=512)
    cumulative = np.cumsum(power, axis=1)
    median = freqs[np.argmax(cumulative >= cumulative[:, -1:] / 2, axis=1)]
    assert median[early].mean() > median[~early].mean() + 5
    three = load_biceps_fatigue(biceps_fatigue_dir, stages="all")
    assert three.data.shape == (63, 1, 2000)


# --------------------------------------------------------------------------
# Bundled data set


def test_load_movements_offline():
    bunch = load_movements()
    meta = bunch.metadata
    assert len(bunch.data) == 380 and meta["subject"].nunique() == 19
    assert {x.shape[0] for x in bunch.data} == {2}
    assert {x.dtype for x in bunch.data} == {np.dtype(np.float64)}
    assert (meta["n_times"].min(), meta["n_times"].max()) == (1158, 3445)
    assert bunch.fs == 1001.0 and bunch.amplifier == bunch.device == "miotracker"
    assert "bundled" in bunch.DESCR and "CC0 1.0" in bunch.DESCR
    assert "Morales-Vargas" in bunch.DESCR
    assert meta["gender"].value_counts().to_dict() == {"M": 260, "F": 120}
    assert set(bunch) == {
        "data",
        "target",
        "target_names",
        "groups",
        "metadata",
        "fs",
        "amplifier",
        "device",  # the former name of amplifier, until 0.3
        "DESCR",
        "problems",
    }


def test_bundled_files_are_small_and_licensed():
    folder = build_bundled.default_output()
    size = (folder / BUNDLED_FILE).stat().st_size
    assert size < 5e6
    licence = (folder / BUNDLED_LICENSE_FILE).read_text(encoding="utf-8")
    assert "Morales-Vargas" in licence
    assert "Surface Electromyography Dataset from Different Movements" in licence
    assert "CC0 1.0 Universal" in licence and "Statement of Purpose" in licence
    with zipfile.ZipFile(folder / BUNDLED_FILE) as archive:
        assert archive.getinfo("samples.npy").date_time == (1980, 1, 1, 0, 0, 0)
    with np.load(folder / BUNDLED_FILE) as archive:
        assert archive["samples"].dtype == np.int16


def test_bundled_equals_muscletracker(muscletracker_dir):
    bundled = load_movements()
    loaded = _muscletracker(muscletracker_dir, "miotracker")
    assert len(bundled.data) == len(loaded.data)
    for a, b in zip(bundled.data, loaded.data, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(bundled.metadata, loaded.metadata)
    np.testing.assert_array_equal(bundled.target, loaded.target)
    np.testing.assert_array_equal(bundled.groups, loaded.groups)
    np.testing.assert_array_equal(bundled.target_names, loaded.target_names)
    assert bundled.fs == loaded.fs and set(bundled) == set(loaded)


def test_build_bundled(muscletracker_dir, tmp_path, capsys):
    out = tmp_path / "data"
    assert (
        build_bundled.main(["--source", str(muscletracker_dir), "--output", str(out)])
        == 0
    )
    assert "MB" in capsys.readouterr().out
    npz = out / BUNDLED_FILE
    first = npz.read_bytes()
    with (
        np.load(npz) as new,
        np.load(build_bundled.default_output() / BUNDLED_FILE) as old,
    ):
        assert sorted(new.files) == sorted(old.files)
        for key in new.files:
            np.testing.assert_array_equal(new[key], old[key])

    # Refuses to overwrite without --force, and leaves the files untouched.
    npz.write_bytes(b"stale")
    assert (
        build_bundled.main(
            ["--source", str(muscletracker_dir.parent), "--output", str(out)]
        )
        == 1
    )
    assert "--force" in capsys.readouterr().err
    assert npz.read_bytes() == b"stale"
    with pytest.raises(FileExistsError, match=BUNDLED_FILE):
        build_bundled.build_movements(muscletracker_dir, out)

    # --force rebuilds, byte for byte (fixed zip timestamps), atomically.
    argv = ["--source", str(muscletracker_dir), "--output", str(out), "--force"]
    assert build_bundled.main(argv) == 0
    assert npz.read_bytes() == first
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [BUNDLED_FILE, BUNDLED_LICENSE_FILE]
    )


def test_build_bundled_bad_source(tmp_path, capsys):
    assert (
        build_bundled.main(["--source", str(tmp_path), "--output", str(tmp_path)]) == 1
    )
    assert "No MuscleTracker data set found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ hostile .npz folders
def _npy_header_bytes(shape, dtype="<f8"):
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape})
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def _bomb(path, shape):
    """An .npz whose hht.npy declares ``shape`` float64 zeros, compressed:
    written in chunks, never held in memory."""
    import zipfile

    n_bytes = int(np.prod(shape)) * 8
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("hht.npy", "w", force_zip64=True) as member:
            member.write(_npy_header_bytes(shape))
            chunk = bytes(2**22)
            for start in range(0, n_bytes, len(chunk)):
                member.write(chunk[: min(len(chunk), n_bytes - start)])


def _hostile_folder(folder):
    import zipfile

    X = np.random.default_rng(0).random((3, *SHAPE), dtype=np.float32)
    save_hht_dir(folder, X, ["M_full", "F_half", "M_half"], muscle="BICEPS")
    _bomb(folder / "Test_bomb.npz", (6000, 6000))  # 288 MB of zeros, 280 kB
    with zipfile.ZipFile(folder / "Test_forged.npz", "w") as archive:  # 10**12
        archive.writestr("hht.npy", _npy_header_bytes((10**6, 10**6)))
    with zipfile.ZipFile(folder / "Test_text_only.npz", "w") as archive:
        archive.writestr("readme.txt", "not an array")
    with zipfile.ZipFile(folder / "BICEPS_full_F_009.npz", "w") as archive:
        archive.writestr("readme.txt", "an extra member")  # ignored
        buffer = io.BytesIO()
        np.save(buffer, X[0])
        archive.writestr("hht.npy", buffer.getvalue())
    with zipfile.ZipFile(folder / "Test_objects.npz", "w") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.array([None] * 64, dtype=object).reshape(SHAPE),
                allow_pickle=True)  # fmt: skip
        archive.writestr("hht.npy", buffer.getvalue())
    (folder / "a_folder.npz").mkdir()
    os.mkfifo(folder / "fifo.npz")
    (folder / "dangling.npz").symlink_to(folder / "nowhere.npz")
    outside = folder.parent / f"{folder.name}_secret.npz"
    outside.write_bytes(b"SECRET CONTENT" * 10)
    (folder / "escape.npz").symlink_to(outside)
    return X


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_hostile_folder_every_bad_entry_reported_none_read_whole(tmp_path):
    import tracemalloc

    folder = tmp_path / "hostile"
    folder.mkdir()
    X = _hostile_folder(folder)
    tracemalloc.start()
    with pytest.warns(UserWarning) as record:
        bunch = load_hht_dir(folder, shape=SHAPE)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak  # the bomb's 288 MB were never read
    assert (
        bunch.metadata["file"].tolist()
        == [
            "BICEPS_full_M_001.npz",
            "BICEPS_full_F_009.npz",
            "BICEPS_half_F_002.npz",
            "BICEPS_half_M_003.npz",
        ]
        or len(bunch.data) == 4
    )
    np.testing.assert_array_equal(bunch.data[0], X[0])
    problems = dict(bunch.problems)
    assert problems["Test_bomb.npz"] == "has shape (6000, 6000), expected (8, 8)"
    assert "has shape (1000000, 1000000)" in problems["Test_forged.npz"]
    assert "holds no .npy array" in problems["Test_text_only.npz"]
    assert "non-numeric dtype object" in problems["Test_objects.npz"]
    assert problems["a_folder.npz"] == "is a folder; only regular files are read"
    assert problems["fifo.npz"] == "is a FIFO; only regular files are read"
    assert "symbolic link" in problems["dangling.npz"]
    assert "symbolic link" in problems["escape.npz"]
    message = str(record[0].message)
    assert "SECRET" not in message and "fifo.npz" in message


def test_fifo_in_a_folder_never_blocks_the_command_line(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs (POSIX)")
    import subprocess
    import sys

    folder = tmp_path / "npz"
    folder.mkdir()
    X = np.random.default_rng(0).random((6, 32, 32), dtype=np.float32)
    save_hht_dir(folder, X, ["M_full", "F_half"] * 3, muscle="BICEPS")
    os.mkfifo(folder / "AAA_fifo.npz")
    _bomb(folder / "AAA_bomb.npz", (2000, 2000))  # first in name order
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_semg.cli", "train", str(folder), "--method",
         "svm", "--cv", "0", "--base-channels", "4", "--output",
         str(tmp_path / "m.joblib")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "matrices 32x32" in result.stdout  # the majority, not the first file
    assert "AAA_fifo.npz" in result.stderr and "AAA_bomb.npz" in result.stderr


def test_hht_classes_is_the_former_name_of_npz_name_labels():
    import sklearn_semg.datasets as datasets

    with pytest.warns(FutureWarning, match="HHT_CLASSES was renamed NPZ_NAME_LABELS"):
        assert datasets.HHT_CLASSES is datasets.NPZ_NAME_LABELS
    with pytest.raises(AttributeError, match="no attribute 'NOT_A_NAME'"):
        datasets.NOT_A_NAME  # noqa: B018
