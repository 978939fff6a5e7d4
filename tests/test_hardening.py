"""Bad names, full disks, odd permissions, mixed labels, extreme scales: each
gets a one-line error naming the file or parameter, or is skipped and named
(issue 12, items 6 and 7)."""

import errno
import os
import stat

import numpy as np
import pytest

from sklearn_semg import CalibratedSVC, HHTCNNClassifier
from sklearn_semg.cli import main
from sklearn_semg.datasets import load_recordings_dir, make_semg, save_hht_dir


def test_a_file_name_that_is_not_utf8_is_skipped_and_named(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    X, _ = make_semg(3, n_times=400, fs=1000, random_state=0)
    for i, x in enumerate(X):
        name = b"rec_\xff.txt" if i == 0 else f"rec_{i}.txt".encode()
        with open(os.path.join(os.fsencode(raw), name), "w") as f:
            np.savetxt(f, x.T)
    with pytest.warns(UserWarning, match=r"rec_\\udcff.txt.*not valid UTF-8"):
        bunch = load_recordings_dir(raw)
    assert bunch.filenames == ["rec_1.txt", "rec_2.txt"]
    # the command completes: the index and the reports never see that name
    assert main(["hht", str(raw), str(tmp_path / "out"), "--size", "8"]) == 0
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "rec_\\udcff.txt" in err
    index = (tmp_path / "out" / "index.csv").read_text()
    assert index.count("rec_1.") == 2 and index.count("rec_2.") == 2  # .txt, .npz
    assert "\udcff" not in index and "rec_\\" not in index


def test_command_line_npz_match_ignores_case(tmp_path, capsys):
    folder = tmp_path / "npz"
    X = np.random.default_rng(0).random((6, 32, 32), dtype=np.float32)
    for path in save_hht_dir(folder, X, ["M_full", "F_half"] * 3, muscle="BICEPS"):
        path.rename(path.with_suffix(".NPZ"))
    status = main(
        ["train", str(folder), "--method", "svm", "--cv", "0", "--base-channels",
         "4", "--output", str(tmp_path / "m.joblib")]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err


def test_checkpoints_get_the_permissions_of_every_other_output(tmp_path):
    X = np.random.default_rng(0).random((20, 1, 16, 16), dtype=np.float32)
    y = np.array(["a", "b"] * 10)
    old = os.umask(0o022)
    try:
        net = HHTCNNClassifier(
            max_epochs=1, checkpoint_dir=tmp_path, module__base_channels=4,
            verbose=0, random_state=0,
        ).fit(X, y)  # fmt: skip
    finally:
        os.umask(old)
    for path in net.checkpoint_path_.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_a_checkpoint_that_cannot_be_written_names_the_file(tmp_path, monkeypatch):
    import torch

    def full_disk(obj, f, *args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected")

    monkeypatch.setattr(torch, "save", full_disk)
    X = np.random.default_rng(0).random((20, 1, 16, 16), dtype=np.float32)
    net = HHTCNNClassifier(
        max_epochs=1, checkpoint_dir=tmp_path, module__base_channels=4, verbose=0
    )
    with pytest.raises(OSError, match="torch could not write the checkpoint") as info:
        net.fit(X, np.array(["a", "b"] * 10))
    assert info.value.filename.endswith(".pt")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):

    folder = tmp_path / "npz"
    X = np.random.default_rng(0).random((6, 32, 32), dtype=np.float32)
    save_hht_dir(folder, X, ["M_full", "F_half"] * 3, muscle="BICEPS")
    model = tmp_path / "m.joblib"
    assert main(["train", str(folder), "--method", "svm", "--cv", "0",
                 "--base-channels", "4", "--output", str(model)]) == 0  # fmt: skip
    out = tmp_path / "pred.csv"

    from sklearn_semg.cli import _common

    def full(path, write, *, overwrite):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(_common, "atomic_write", full)
    capsys.readouterr()
    status = main(["predict", str(model), str(folder), "--output", str(out)])
    # (the model predicts its own training files: a warning line comes first)
    err = [
        line for line in capsys.readouterr().err.strip().splitlines()
        if "warning:" not in line
    ]  # fmt: skip
    assert status == 2 and len(err) == 1, err
    assert str(out) in err[0] and "No space left on device" in err[0]


@pytest.mark.parametrize("make", [CalibratedSVC, HHTCNNClassifier])
def test_mixed_label_types_are_named(make):
    X = np.random.default_rng(0).random((8, 1, 16, 16), dtype=np.float32)
    y = np.array([1, "a"] * 4, dtype=object)
    data = X.reshape(8, -1) if make is CalibratedSVC else X
    with pytest.raises(
        ValueError, match=r"y mixes labels of types \['number', 'str'\]"
    ):
        make().fit(data, y)


def test_the_cnn_refuses_magnitudes_its_float32_normalisation_overflows():
    from sklearn_semg import CNNFeatureExtractor

    M = np.random.default_rng(0).random((4, 1, 16, 16), dtype=np.float32)
    cnn = CNNFeatureExtractor(base_channels=4, random_state=0)
    features = cnn.fit_transform(M * 1e12)  # large but safe: distinct features
    assert len({tuple(np.round(r, 4)) for r in features}) == 4
    for scale in (1e19, 1e30):  # used to collapse to one constant row
        with pytest.raises(ValueError, match=r"values up to .*e\+(18|29).*rescale"):
            cnn.fit_transform(M * scale)
    with pytest.raises(ValueError, match="values up to"):
        HHTCNNClassifier(max_epochs=1).fit(M * 1e20, np.array(["a", "b"] * 2))


@pytest.mark.parametrize("name", ["HHTTransformer", "EMGFeatures", "HHTFeatures"])
def test_recordings_of_absurd_magnitude_are_an_error_not_inf(name):
    import sklearn_semg

    X = np.random.default_rng(0).standard_normal((3, 500))
    params = dict(normalize=None, n_freq_bins=8, n_time_bins=8)
    est = getattr(sklearn_semg, name)(**(params if name == "HHTTransformer" else {}))
    assert np.isfinite(est.fit_transform(X * 1e6)).all()
    X[1] *= 1e200
    with pytest.raises(ValueError, match=r"X\[1\].*rescale the recordings"):
        est.fit_transform(X)
