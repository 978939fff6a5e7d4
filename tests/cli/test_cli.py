"""The ``sklearn-semg`` command, run through its entry point on tiny data.

Most tests start the installed console script (``sklearn-semg``) in a
subprocess, falling back to ``python -m sklearn_semg.cli`` where it is not
installed. Each such process imports torch (seconds), so the ``--help`` of
each command, a few error cases and some second steps call
:func:`sklearn_semg.cli.main` in-process instead, which also runs them under
the test suite's warnings-as-errors filter.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from sklearn_semg import HHTTransformer, load_model, model_metadata
from sklearn_semg.cli import main
from sklearn_semg.datasets import load_hht_dir, make_semg, save_hht_dir

SCRIPT = shutil.which("sklearn-semg") or (
    str(Path(sys.executable).with_name("sklearn-semg"))
    if Path(sys.executable).with_name("sklearn-semg").exists()
    else None
)
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "sklearn_semg.cli"]
COMMANDS = ("demo", "hht", "train", "predict", "evaluate")
LABELS = {0: "M_full", 1: "F_half"}


def run(*args, cwd=None, command=None):
    """Run the command; return the CompletedProcess (text output)."""
    return subprocess.run(
        [*(command or COMMAND), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def user_error(result, *fragments):
    """Exit status 2 with one error line naming each fragment."""
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert str(fragment) in errors[0], errors[0]
    return errors[0]


# -- data -------------------------------------------------------------------
@pytest.fixture(scope="module")
def npz_dir(tmp_path_factory):
    """16 labelled 32x32 matrices (two classes) and 3 unlabelled Test files."""
    folder = tmp_path_factory.mktemp("npz")
    X, y = make_semg(19, n_times=400, fs=1000, n_classes=2, random_state=0)
    M = HHTTransformer(fs=1000, n_freq_bins=32, n_time_bins=32).fit_transform(X)
    save_hht_dir(folder, M[:16], [LABELS[k] for k in y[:16]], muscle="BICEPS")
    save_hht_dir(folder, M[16:], None, start_index=17)
    return folder


@pytest.fixture(scope="module")
def new_npz_dir(tmp_path_factory):
    """Eight labelled 32x32 matrices that no model of these tests trained on."""
    folder = tmp_path_factory.mktemp("new_npz")
    X, y = make_semg(8, n_times=400, fs=1000, n_classes=2, random_state=7)
    M = HHTTransformer(fs=1000, n_freq_bins=32, n_time_bins=32).fit_transform(X)
    save_hht_dir(folder, M, [LABELS[k] for k in y], muscle="BICEPS", start_index=40)
    return folder


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    """Six two-channel text recordings and a labels CSV for four of them."""
    folder = tmp_path_factory.mktemp("raw")
    X, y = make_semg(6, n_channels=2, n_times=600, fs=1000, n_classes=2, random_state=1)
    for i, x in enumerate(X):
        np.savetxt(folder / f"rec_{i}.txt", x.T, fmt="%.6f")
    labels = folder.parent / f"{folder.name}_labels.csv"
    pd.DataFrame(
        {
            "file": [f"rec_{i}.txt" for i in range(4)],
            "label": [LABELS[k] for k in y[:4]],
        }
    ).to_csv(labels, index=False)
    return folder, labels


@pytest.fixture(scope="module")
def svm_model(npz_dir, tmp_path_factory):
    model = tmp_path_factory.mktemp("models") / "svm.semg"
    result = ok(
        run(
            "train", npz_dir, "--method", "cnn-svm", "--output", model, "--cv", "2",
            "--base-channels", "4", "--device", "cpu",
        )
    )  # fmt: skip
    return model, result


# -- help and entry point ---------------------------------------------------
def test_console_script_help():
    if SCRIPT is None:
        pytest.skip(
            "the sklearn-semg console script is not installed (pip install -e .)"
        )
    result = ok(run("--help", command=[SCRIPT]))
    for name in COMMANDS:
        assert name in result.stdout
    assert ok(run("--version", command=[SCRIPT])).stdout.startswith("sklearn-semg ")


def test_module_entry_point_help():
    result = ok(
        run("train", "--help", command=[sys.executable, "-m", "sklearn_semg.cli"])
    )
    assert "--method {recommended,cnn-svm,end-to-end}" in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_help_of_each_command(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sklearn-semg {name}")
    assert "--force" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


# -- hht --------------------------------------------------------------------
def test_hht_writes_named_npz_and_index(raw_dir, tmp_path):
    folder, labels = raw_dir
    out = tmp_path / "hht"
    result = ok(
        run(
            "hht", folder, out, "--fs", "1000", "--size", "16", "--labels", labels,
            "--muscle", "forearm",
        )
    )  # fmt: skip
    assert "Wrote 12 .npz file(s)" in result.stdout
    assert "%|" not in result.stderr  # no progress bar when not on a terminal
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert len(index) == 12  # 6 files x 2 channels
    assert set(index.columns) >= {"source_file", "channel", "npz_file", "label"}
    assert sorted(p.name for p in out.glob("*.npz")) == sorted(index["npz_file"])
    labelled = index[index["label"] != ""]
    assert len(labelled) == 8
    assert all(name.startswith("FOREARM_") for name in labelled["npz_file"])
    assert all(
        name.startswith("Test_") for name in index.loc[index["label"] == "", "npz_file"]
    )
    bunch = load_hht_dir(out, shape=(16, 16))
    assert dict(zip(bunch.metadata["file"], bunch.target, strict=True)) == dict(
        zip(labelled["npz_file"], labelled["label"], strict=True)
    )
    assert len(bunch.test_data) == 4

    # An existing output is never overwritten without --force.
    first = out / index["npz_file"][0]
    before = first.read_bytes()
    user_error(run("hht", folder, out, "--size", "16"), str(out), "--force")
    assert first.read_bytes() == before
    result = ok(
        run(
            "hht", folder, out, "--size", "8", "--labels", labels, "--muscle",
            "forearm", "--force",
        )
    )  # fmt: skip
    assert first.read_bytes() != before
    assert load_hht_dir(out, shape=(8, 8)).data.shape == (8, 8, 8)
    # --force replaces the whole set: no file of the earlier run remains,
    # while a file of the user's own is kept
    (out / "notes.txt").write_text("mine")
    ok(run("hht", folder, out, "--size", "8", "--force"))
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert sorted(p.name for p in out.glob("*.npz")) == sorted(index["npz_file"])
    # without --muscle: named after the recordings (rec_0_ch1.npz ...)
    assert sorted(index["npz_file"]) == sorted(
        f"rec_{i}_ch{c}.npz" for i in range(6) for c in (1, 2)
    )
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_hht_skips_bad_recordings_by_name_and_mixes_channel_counts(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    X, _ = make_semg(3, n_channels=3, n_times=600, fs=1000, random_state=2)
    np.savetxt(folder / "a_two.txt", X[0, :2].T)
    np.savetxt(folder / "b_three.txt", X[1].T)  # another channel count
    (folder / "c_one_sample.txt").write_text("0.5 0.1\n")
    nan = X[2, :2].T.copy()
    nan[7, 1] = np.nan
    np.savetxt(folder / "d_nan.txt", nan)
    (folder / "e_overflow.txt").write_text("1e999 0\n" + "0.1 0.2\n" * 50)
    out = tmp_path / "hht"
    result = ok(run("hht", folder, out, "--size", "8"))
    assert "skipped 3 recording(s)" in result.stderr
    for name, why in (
        ("c_one_sample.txt", "1 samples"),
        ("d_nan.txt", "NaN values (first at channel 1, sample 7)"),
        ("e_overflow.txt", "infinite values"),
    ):
        line = next(x for x in result.stderr.splitlines() if name in x)
        assert why in line, line
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert index["source_file"].tolist() == ["a_two.txt"] * 2 + ["b_three.txt"] * 3
    assert len(list(out.glob("*.npz"))) == 5


@pytest.mark.parametrize("fault", ["disk full", "ctrl-c"])
def test_hht_outputs_are_replaced_as_a_set_or_not_at_all(
    raw_dir, tmp_path, monkeypatch, capsys, fault
):
    import errno

    from sklearn_semg.datasets import _base

    folder, _ = raw_dir
    out = tmp_path / "hht"
    assert main(["hht", str(folder), str(out), "--size", "8"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = _base.write_npz_atomic
    calls = []

    def failing(target, matrix, *, overwrite):
        calls.append(target)
        if len(calls) == 5:
            if fault == "ctrl-c":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(target, matrix, overwrite=overwrite)

    monkeypatch.setattr(_base, "write_npz_atomic", failing)
    status = main(["hht", str(folder), str(out), "--size", "16", "--force"])
    err = capsys.readouterr().err
    if fault == "ctrl-c":
        assert status == 130 and "interrupted; nothing was written" in err
    else:
        assert status == 2
        assert "No space left on device" in err and "is unchanged" in err
        assert ".npz" in err  # the file that could not be written
    # the earlier set is intact, and nothing temporary is left anywhere
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_hht_errors(raw_dir, tmp_path):
    folder, _ = raw_dir
    missing = tmp_path / "missing"
    user_error(run("hht", missing, tmp_path / "out"), str(missing), "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["hht", str(empty), str(tmp_path / "out")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\nrec_0.txt,flexion\n")
    # the six-label naming scheme cannot carry other labels
    args = ["hht", str(folder), str(tmp_path / "o"), "--labels", str(bad)]
    assert main([*args, "--muscle", "biceps"]) == 2
    assert not (tmp_path / "o").exists()  # nothing written


def test_hht_format_zarr_holds_the_matrices_of_the_npz_output(
    raw_dir, tmp_path, capsys
):
    zarr = pytest.importorskip("zarr")
    from sklearn_semg.hht import open_hht_store

    folder, labels = raw_dir
    npz, out = tmp_path / "npz", tmp_path / "zarr"
    args = [str(folder), "--size", "8", "--labels", str(labels)]
    assert main(["hht", args[0], str(npz), *args[1:]]) == 0
    to_store = ["hht", args[0], str(out), *args[1:], "--format", "zarr",
            "--chunk-size", "4", "--subject-pattern", r"rec_(\d)"]  # fmt: skip
    assert main(to_store) == 0
    assert "one store, hht.zarr" in capsys.readouterr().out
    store = open_hht_store(out / "hht.zarr")
    assert store.X.shape == (6, 2, 8, 8) and store.chunk_size == 4
    assert store.names.tolist() == [f"rec_{i}" for i in range(6)]
    for i, name in enumerate(store.names.tolist()):
        for c in (1, 2):
            with np.load(npz / f"{name}_ch{c}.npz") as saved:
                np.testing.assert_array_equal(store.X[i, c - 1], saved["hht"])
    index = pd.read_csv(npz / "index.csv", keep_default_na=False)
    by_file = dict(zip(index["source_file"], index["label"], strict=True))
    assert store.y.tolist() == [by_file[f"rec_{i}.txt"] for i in range(6)]
    assert store.y.tolist()[4:] == ["", ""]  # rec_4, rec_5: unlabelled
    assert store.groups.tolist() == [str(i) for i in range(6)]
    # a second run resumes the store: only the chunk a stopped run left
    # unwritten is computed again
    matrices = store.X[:]
    group = zarr.open_group(str(out / "hht.zarr"), mode="r+")
    group["done"][1] = False
    group["hht"][4:] = 0.0
    group.attrs["complete"] = False
    assert main(to_store) == 0
    printed = capsys.readouterr().out
    assert "Resumed" in printed and "1 of 2 chunk(s) were written" in printed
    resumed = open_hht_store(out / "hht.zarr")
    assert resumed.complete
    np.testing.assert_array_equal(resumed.X[:], matrices)
    # the store of other labels is replaced only with --force
    assert main([*to_store[:5], *to_store[7:]]) == 2
    assert "pass --force to replace it" in capsys.readouterr().err
    assert open_hht_store(out / "hht.zarr").groups is not None  # unchanged


def test_hht_format_options_are_checked(raw_dir, tmp_path, capsys, monkeypatch):
    folder, _ = raw_dir
    out = tmp_path / "out"
    base = ["hht", str(folder), str(out), "--size", "8"]
    for extra, fragment in (
        (["--chunk-size", "4"], "--chunk-size is an option of the store"),
        (["--subject-pattern", "(.)"], "--subject-pattern is an option of the store"),
        (["--format", "zarr", "--muscle", "biceps"], "--muscle names .npz files"),
    ):
        assert main([*base, *extra]) == 2
        assert fragment in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "zarr", None)  # zarr not installed
    assert main([*base, "--format", "zarr"]) == 2
    assert 'pip install "sklearn-semg[dask]"' in capsys.readouterr().err
    assert not out.exists()  # nothing written


# -- train / predict / evaluate on .npz ---------------------------------------
def test_train_svm_saves_model_with_metadata(svm_model):
    model, result = svm_model
    # not on a terminal: a line when the cross-validation starts, no progress bar
    assert "Cross-validating (2 folds) ..." in result.stdout
    assert "%|" not in result.stderr
    assert (
        "Cross-validation (StratifiedKFold(2, shuffled), each file its own recording "
        "(no index.csv, no --subjects)): accuracy"
    ) in result.stdout
    assert "balanced accuracy" in result.stdout and "chance 0.500" in result.stdout
    meta = model_metadata(model)
    assert meta["input"] == "hht" and meta["input_shape"] == [1, 32, 32]
    assert meta["classes"] == ["F_half", "M_full"] and meta["method"] == "cnn-svm"
    assert 0 <= meta["cv"]["accuracy"] <= 1
    assert [name for name, _ in load_model(model).steps] == ["cnn", "scale", "clf"]


def test_predict_npz_every_file(svm_model, npz_dir, tmp_path):
    model, _ = svm_model
    out = tmp_path / "pred.csv"
    result = ok(run("predict", model, npz_dir, "--output", out))
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "file", "predicted_label", "confidence", "in_training_data"
    ]  # fmt: skip
    assert sorted(table["file"]) == sorted(p.name for p in npz_dir.glob("*.npz"))
    assert set(table["predicted_label"]) <= {"F_half", "M_full"}
    assert table["confidence"].between(0, 1).all()
    assert "Test_017.npz:" in result.stdout and "(confidence: " in result.stdout
    # the model was trained on the 16 labelled files: marked, and not scored
    trained = table.set_index("file")["in_training_data"]
    assert trained.sum() == 16 and not trained[["Test_017.npz", "Test_018.npz"]].any()
    assert "16 of the 19 file(s) are in the model's training data" in result.stderr
    assert "Accuracy on" not in result.stdout


def test_subjects_for_a_model_without_calibration_are_ignored(
    svm_model, npz_dir, tmp_path
):
    model, _ = svm_model
    out = tmp_path / "pred.csv"
    result = ok(
        run("predict", model, npz_dir, "--output", out, "--subject-pattern", "(.)")
    )
    assert "not trained with --per-subject" in result.stderr
    assert "subject" not in pd.read_csv(out).columns


def test_evaluate_npz(svm_model, new_npz_dir, tmp_path):
    model, _ = svm_model
    out = tmp_path / "report.csv"
    result = ok(run("evaluate", model, new_npz_dir, "--output", out))
    assert "evaluate: 8 labelled file(s)" in result.stdout
    assert "training data" not in result.stderr
    assert "Accuracy " in result.stdout and "balanced accuracy" in result.stdout
    assert "precision" in result.stdout  # the classification report
    report = pd.read_csv(out)
    assert {"F_half", "M_full", "accuracy", "balanced_accuracy"} <= set(report["class"])
    figure = tmp_path / "report_confusion.png"
    assert figure.is_file() and figure.stat().st_size > 5_000


def test_train_end_to_end_and_predict(npz_dir, tmp_path):
    model = tmp_path / "end_to_end.semg"
    result = ok(
        run(
            "train", npz_dir, "--method", "end-to-end", "--epochs", "2", "--cv", "2",
            "--base-channels", "4", "--output", model, "--device", "cpu",
        )
    )  # fmt: skip
    assert "valid_acc" in result.stdout  # the epoch table of the final fit
    assert model_metadata(model)["method"] == "end-to-end"
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(npz_dir), "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 19 and table["confidence"].between(0, 1).all()


# -- the bundled data and raw recordings ----------------------------------------
@pytest.mark.slow
def test_ctrl_c_during_end_to_end_training_exits_130_and_writes_nothing(
    npz_dir, tmp_path
):
    import signal

    model = tmp_path / "model.joblib"
    model.write_bytes(b"a good model")
    process = subprocess.Popen(
        [*COMMAND, "train", str(npz_dir), "--method",
         "end-to-end", "--epochs", "3000", "--cv", "0", "--base-channels", "4",
         "--output", str(model), "--force", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell runs background jobs with Ctrl-C ignored, and a child keeps
        # that: give the command the default, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    # wait for the epoch table: training has started
    for line in process.stdout:
        if line.strip()[:1].isdigit():
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr
    assert model.read_bytes() == b"a good model"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_train_bundled_then_predict_and_evaluate_raw(raw_dir, tmp_path, capsys):
    folder, labels = raw_dir
    model = tmp_path / "raw.semg"
    result = ok(
        run(
            "train", "--bundled", "--n-subjects", "2", "--size", "16", "--cv", "2",
            "--method", "cnn-svm", "--base-channels", "4", "--output", model,
            "--n-jobs", "1", "--device", "cpu",
        )
    )  # fmt: skip
    assert "GroupKFold(2) on subjects" in result.stdout
    meta = model_metadata(model)
    assert meta["input"] == "raw" and meta["fs"] == 1001.0 and meta["n_channels"] == 2
    out = tmp_path / "pred.csv"
    ok(run("predict", model, folder, "--output", out))
    table = pd.read_csv(out)
    assert sorted(table["file"]) == [f"rec_{i}.txt" for i in range(6)]
    assert set(table["predicted_label"]) <= set(meta["classes"])
    assert table["confidence"].between(0, 1).all()
    # Raw recordings need labels to be evaluated; this model's classes are
    # movements, so every file counts as wrong, with a warning.
    report = tmp_path / "report.csv"
    args = ["evaluate", model, folder, "--labels", labels, "--output", report]
    assert main([str(a) for a in args]) == 0
    assert "not among the model's classes" in capsys.readouterr().err
    assert report.is_file() and (tmp_path / "report_confusion.png").is_file()


def test_per_subject_train_predict_evaluate(raw_dir, tmp_path, capsys):
    folder, labels = raw_dir
    model = tmp_path / "subject.semg"
    result = ok(
        run(
            "train", "--bundled", "--n-subjects", "3", "--size", "16", "--cv", "3",
            "--method", "cnn-svm", "--base-channels", "4", "--per-subject",
            "--output", model, "--n-jobs", "1", "--device", "cpu",
        )
    )  # fmt: skip
    assert "GroupKFold(3) on subjects" in result.stdout
    meta = model_metadata(model)
    assert meta["per_subject"] is True
    assert [n for n, _ in load_model(model).steps][-2] == "subject"
    # the subjects of new files: required, from a pattern or a CSV
    out = tmp_path / "pred.csv"
    user_error(run("predict", model, folder, "--output", out), "--subject-pattern")
    # one recording per subject cannot be calibrated: a one-line error
    user_error(
        run("predict", model, folder, "--output", out, "--subject-pattern", r"_(\d)"),
        "subject '0' has 1 calibration window(s)",
    )
    assert not out.exists()
    subjects = tmp_path / "subjects.csv"
    pd.DataFrame(
        {"file": [f"rec_{i}.txt" for i in range(6)], "subject": list("aabbcc")}
    ).to_csv(subjects, index=False)
    ok(run("predict", model, folder, "--output", out, "--subjects", subjects))
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "file", "subject", "predicted_label", "confidence", "in_training_data"
    ]  # fmt: skip
    assert table["subject"].tolist() == list("aabbcc")
    assert set(table["predicted_label"]) <= set(meta["classes"])
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"file": ["rec_0.txt"], "subject": ["a"]}).to_csv(bad, index=False)
    user_error(
        run(
            "predict", model, folder, "--output", tmp_path / "x.csv", "--subjects", bad
        ),
        "no subject for 5 file(s)",
    )
    user_error(
        run("predict", model, folder, "--output", tmp_path / "y.csv",
            "--subject-pattern", "rec")
    , "has no group")  # fmt: skip
    empty = tmp_path / "empty.csv"
    pd.DataFrame(
        {"file": [f"rec_{i}.txt" for i in range(6)], "subject": ["a", None] * 3}
    ).to_csv(empty, index=False)
    user_error(
        run("predict", model, folder, "--output", tmp_path / "z.csv", "--subjects",
            empty),
        "empty file or subject, the first at line 3",
    )  # fmt: skip
    report = tmp_path / "report.csv"
    args = ["evaluate", model, folder, "--labels", labels, "--output", report,
            "--subjects", subjects]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    capsys.readouterr()
    user_error(
        run("train", "--bundled", "--method", "end-to-end", "--per-subject", "--output",
            tmp_path / "e.semg"),
        "method 1",
    )  # fmt: skip


@pytest.mark.slow
def test_demo_quick(tmp_path):
    out = tmp_path / "demo"
    result = ok(run("demo", "--quick", "--output", out))
    stdout = result.stdout
    for fragment in (
        "Settings",
        "GroupKFold, 3 folds",
        "balanced_accuracy",
        "fit_time_s",
        "chance",
        "recommended: HHT features + marginal spectrum -> SVM",
        "recommended + SEMGFilter",
        "calibrated per subject",
        "method 1",
        "method 2",
        "Total wall time",
    ):
        assert fragment in stdout
    for name in (
        "hht_examples.png",
        "confusion_recommended.png",
        "confusion_recommended_filtered.png",
        "confusion_recommended_per_subject.png",
        "confusion_method1_cnn_svm.png",
        "confusion_method2_end_to_end.png",
        "history_method2.png",
    ):
        assert (out / name).stat().st_size > 5_000, name
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 5 and results["accuracy"].between(0, 1).all()
    assert results["method"].tolist()[:2] == [
        "recommended: HHT features + marginal spectrum -> SVM",
        "recommended + SEMGFilter",
    ]
    assert "SEMGFilter on all recordings: 20-450 Hz band-pass" in stdout
    # The folder is not empty any more: refused without --force.
    user_error(run("demo", "--quick", "--output", out), str(out), "--force")


# -- errors -----------------------------------------------------------------
def test_existing_output_is_never_overwritten(svm_model, npz_dir, tmp_path):
    model, _ = svm_model
    out = tmp_path / "predictions.csv"
    out.write_text("keep me\n")
    user_error(run("predict", model, npz_dir, "--output", out), str(out), "--force")
    assert out.read_text() == "keep me\n"
    user_error(
        run("train", npz_dir, "--method", "cnn-svm", "--output", out),
        str(out),
        "--force",
    )
    assert out.read_text() == "keep me\n"
    assert main(["evaluate", str(model), str(npz_dir), "--output", str(out)]) == 2
    assert out.read_text() == "keep me\n"


def test_missing_and_empty_folders(svm_model, tmp_path, capsys):
    model, _ = svm_model
    missing = tmp_path / "nowhere"
    user_error(run("predict", model, missing), str(missing), "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(empty), "--method", "cnn-svm"]) == 2
    assert f"DATA '{empty}' holds no .npz file" in capsys.readouterr().err
    assert (
        main(["predict", str(model), str(empty), "--output", str(tmp_path / "p.csv")])
        == 2
    )
    assert "holds no .npz file" in capsys.readouterr().err
    assert main(["train", "--method", "cnn-svm"]) == 2
    assert "missing DATA" in capsys.readouterr().err


def test_bad_model_and_unknown_method(npz_dir, tmp_path, capsys):
    fake = tmp_path / "model.joblib"
    fake.write_text("not a model")
    out = ["--output", str(tmp_path / "p.csv")]
    assert main(["predict", str(fake), str(npz_dir), *out]) == 2
    assert f"MODEL '{fake}' is not a safe sklearn-semg model" in capsys.readouterr().err
    assert main(["predict", str(fake), str(npz_dir), *out, "--trust-pickle"]) == 2
    assert f"MODEL '{fake}' could not be read" in capsys.readouterr().err
    joblib.dump({"weights": 1}, fake)
    assert (
        main(
            ["evaluate", str(fake), str(npz_dir), "--output", str(tmp_path / "r.csv"),
             "--trust-pickle"]
        )
        == 2
    )  # fmt: skip
    assert "is not a sklearn-semg model: it holds a dict" in capsys.readouterr().err
    result = run("train", npz_dir, "--method", "knn")
    assert result.returncode == 2
    assert "invalid choice: 'knn'" in result.stderr


def test_former_method_names_still_work_with_a_warning(npz_dir, tmp_path, capsys):
    from sklearn_semg.cli import DEMO_SETTINGS

    model = tmp_path / "old.semg"
    args = ["train", str(npz_dir), "--method", "svm", "--cv", "0",
            "--base-channels", "4", "--output", str(model), "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "--method 'svm' was renamed 'cnn-svm'" in err and "0.3" in err
    assert model_metadata(model)["method"] == "cnn-svm"
    for old, new in (("svm", "cnn-svm"), ("e2e", "end-to-end")):
        with pytest.warns(FutureWarning, match=f"'{old}' was renamed '{new}'"):
            assert DEMO_SETTINGS[old] is DEMO_SETTINGS[new]


def test_a_model_file_with_a_former_method_name_still_loads(
    svm_model, npz_dir, tmp_path, capsys
):
    from sklearn_semg import save_model
    from sklearn_semg.cli._model import _load_model

    model, _ = svm_model
    old = tmp_path / "old.semg"
    save_model(load_model(model), old, metadata={**model_metadata(model),
                                                  "method": "svm"})  # fmt: skip
    assert _load_model(old)[1]["method"] == "cnn-svm"
    out = tmp_path / "p.csv"
    assert main(["predict", str(old), str(npz_dir), "--output", str(out)]) == 0
    assert len(pd.read_csv(out)) == 19


def test_main_reports_user_errors_and_lets_bugs_through(monkeypatch, capsys):
    from sklearn_semg.cli import CLIError, demo

    def user_error_(args):
        raise CLIError("the folder 'x' is empty", status=3)

    monkeypatch.setattr(demo, "run", user_error_)
    assert main(["demo"]) == 3
    assert (
        capsys.readouterr().err == "sklearn-semg demo: error: the folder 'x' is empty\n"
    )

    def bug(args):
        raise ValueError("a bug, not a user error")

    monkeypatch.setattr(demo, "run", bug)
    with pytest.raises(ValueError, match="a bug"):
        main(["demo"])


class _TouchOnLoad:
    """Unpickling it creates a file: a stand-in for a malicious payload."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_joblib_model_runs_nothing_without_trust_pickle(
    command, npz_dir, tmp_path, capsys
):
    marker = tmp_path / "payload-ran"
    model = tmp_path / "model.joblib"
    joblib.dump({"pipeline": _TouchOnLoad(marker)}, model)
    args = [command, str(model), str(npz_dir), "--output", str(tmp_path / "o.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is not a safe sklearn-semg model file" in err and "--trust-pickle" in err
    assert not marker.exists()  # the payload never ran
    # with the explicit flag, the file is loaded (and the user warned)
    assert main([*args, "--trust-pickle"]) == 2
    err = capsys.readouterr().err
    assert "warning: loading" in err and "runs code chosen by whoever wrote it" in err
    assert marker.exists()


def test_a_joblib_model_of_an_earlier_train_loads_with_trust_pickle(
    svm_model, npz_dir, tmp_path, capsys
):
    model, _ = svm_model
    old = tmp_path / "old.joblib"
    joblib.dump(
        {"format": "sklearn-semg-model", "format_version": 1,
         "metadata": model_metadata(model), "pipeline": load_model(model)},
        old,
    )  # fmt: skip
    new_out, old_out = tmp_path / "new.csv", tmp_path / "old.csv"
    assert main(["predict", str(model), str(npz_dir), "--output", str(new_out)]) == 0
    args = ["predict", str(old), str(npz_dir), "--output", str(old_out)]
    assert main([*args, "--trust-pickle"]) == 0
    assert "warning: loading" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(new_out), pd.read_csv(old_out))


def test_evaluate_leaves_out_the_training_files_found_by_content(
    svm_model, npz_dir, new_npz_dir, tmp_path
):
    model, _ = svm_model
    out = ["--output", str(tmp_path / "r.csv"), "--force"]
    # only training files: nothing to test
    user_error(run("evaluate", model, npz_dir, *out), "nothing left to test")
    # forced: scored, with the warning
    result = ok(run("evaluate", model, npz_dir, *out, "--include-training-files"))
    assert "16 of the 16 file(s) are in the model's training data" in result.stderr
    assert "evaluate: 16 labelled file(s)" in result.stdout
    # renamed copies of two training files among new files: found by content
    mixed = tmp_path / "mixed"
    shutil.copytree(new_npz_dir, mixed)
    for i, path in enumerate(sorted(npz_dir.glob("BICEPS_*.npz"))[:2]):
        quality, gender = path.stem.split("_")[1:3]
        shutil.copy(path, mixed / f"BICEPS_{quality}_{gender}_{90 + i}.npz")
    result = ok(run("evaluate", model, mixed, *out))
    assert "2 of the 10 file(s) are in the model's training data" in result.stderr
    assert "left out of the score" in result.stderr
    assert "evaluate: 8 labelled file(s)" in result.stdout


def test_predict_pattern_selects_npz_files(svm_model, npz_dir, tmp_path):
    model, _ = svm_model
    out = tmp_path / "pred.csv"
    ok(run("predict", model, npz_dir, "--output", out, "--pattern", "Test*"))
    table = pd.read_csv(out)
    assert sorted(table["file"]) == ["Test_017.npz", "Test_018.npz", "Test_019.npz"]
    user_error(
        run("predict", model, npz_dir, "--output", out, "--force", "--pattern", "x*"),
        "matches --pattern 'x*'",
    )


def test_train_keeps_the_channels_of_a_recording_in_one_fold(tmp_path):
    """hht writes one .npz per channel; its index.csv groups them for the CV."""
    from sklearn_semg.cli._data import _source_recordings

    folder = tmp_path / "raw"
    folder.mkdir()
    X, y = make_semg(8, n_channels=2, n_times=600, fs=1000, n_classes=2, random_state=3)
    y = np.arange(8) % 2  # balanced: 4 recordings per class
    for i, x in enumerate(X):
        np.savetxt(folder / f"rec_{i}.txt", x.T, fmt="%.6f")
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"file": [f"rec_{i}.txt" for i in range(8)], "label": [LABELS[k] for k in y]}
    ).to_csv(labels, index=False)
    out = tmp_path / "hht"
    ok(run("hht", folder, out, "--fs", "1000", "--size", "16", "--labels", labels))
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    files = sorted(index["npz_file"])
    recordings = _source_recordings(out, files)
    assert recordings == [
        index.set_index("npz_file").loc[f, "source_file"] for f in files
    ]  # fmt: skip
    assert len(set(recordings)) == 8 and len(files) == 16  # 2 channels each
    model = tmp_path / "m.semg"
    result = ok(
        run("train", out, "--method", "cnn-svm", "--cv", "2", "--base-channels", "4",
            "--output", model, "--device", "cpu")
    )  # fmt: skip
    expected = (
        "StratifiedGroupKFold(2, shuffled) on the 8 source recordings of index.csv"
    )
    assert expected in result.stdout
    assert model_metadata(model)["cv"]["splitter"] == expected


def test_train_end_to_end_writes_and_resumes_checkpoints(npz_dir, tmp_path):
    runs, model = tmp_path / "runs", tmp_path / "end_to_end.semg"
    base = ["train", npz_dir, "--method", "end-to-end", "--cv", "0", "--epochs", "2",
            "--base-channels", "4", "--device", "cpu", "--checkpoint-dir", runs]  # fmt: skip
    ok(run(*base, "--output", model))
    (run_dir,) = runs.glob("run-*")
    assert (run_dir / "final_model.pt").is_file()
    result = ok(run(*base, "--output", model, "--force", "--resume", "last",
                    "--epochs", "3"))  # fmt: skip
    assert "Fitted in" in result.stdout
    assert len(load_model(model).named_steps["clf"].history) == 3  # 2 + 1 resumed
    user_error(
        run("train", npz_dir, "--method", "cnn-svm", "--checkpoint-dir", runs),
        "for method 2",
    )


def test_train_warns_when_the_model_predicts_one_class(tmp_path):
    folder = tmp_path / "npz"
    X = np.ones((14, 16, 16), dtype=np.float32)  # nothing tells the classes apart
    save_hht_dir(folder, X, ["M_full"] * 8 + ["F_half"] * 6, muscle="BICEPS")
    result = ok(
        run("train", folder, "--method", "cnn-svm", "--cv", "2", "--base-channels", "4",
            "--output", tmp_path / "m.semg", "--device", "cpu")
    )  # fmt: skip
    assert "predicts 'M_full' for every sample in cross-validation" in result.stderr
    assert "for every sample on its own training data" in result.stderr


def test_train_the_recommended_pipeline_and_predict(raw_dir, tmp_path):
    folder, _ = raw_dir
    model = tmp_path / "recommended.semg"
    result = ok(
        run("train", "--bundled", "--method", "recommended", "--n-subjects", "2",
            "--cv", "2", "--output", model, "--n-jobs", "1")
    )  # fmt: skip
    assert "recommended: HHT features + marginal spectrum -> SVM" in result.stdout
    assert "GroupKFold(2) on subjects" in result.stdout
    steps = [name for name, _ in load_model(model).steps]
    assert steps == ["emd", "features", "scale", "clf"]
    out = tmp_path / "pred.csv"
    ok(run("predict", model, folder, "--output", out))
    assert len(pd.read_csv(out)) == 6
    user_error(
        run("train", folder, "--method", "recommended", "--output", model, "--force"),
        "--method recommended reads raw recordings",
    )


def test_a_folder_of_the_wrong_size_gets_a_short_report(svm_model, tmp_path):
    model, _ = svm_model
    folder = tmp_path / "npz"
    X = np.random.default_rng(0).random((12, 16, 16), dtype=np.float32)
    save_hht_dir(folder, X, ["M_full", "F_half"] * 6, muscle="BICEPS")
    result = run("predict", model, folder, "--output", tmp_path / "p.csv")
    user_error(result, "this model expects 32x32 HHT matrices")
    warnings_ = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings_) == 2, warnings_  # a summary, not one line per file
    assert "12 with shape (16, 16)" in warnings_[1] and "and 9 more" in warnings_[1]
    assert "strict=True" not in result.stderr  # no Python-API advice


def test_hht_keeps_source_names_and_any_labels_through_train_and_predict(tmp_path):
    """Recordings named and labelled freely: the .npz files keep the names,
    index.csv keeps the labels, and train/predict read them back."""
    folder = tmp_path / "raw"
    folder.mkdir()
    X, y = make_semg(12, n_times=500, fs=1000, n_classes=2, random_state=4)
    names = [f"subject{i // 4}_trial{i % 4}.txt" for i in range(12)]
    for name, x in zip(names, X, strict=True):
        np.savetxt(folder / name, x.T, fmt="%.6f")
    (folder / "Test_042.txt").write_text("\n".join(f"{v:.6f}" for v in X[0, 0]) + "\n")
    labels = tmp_path / "labels.csv"
    gestures = np.array(["rest", "grip"])[y]
    pd.DataFrame({"file": names, "label": gestures}).to_csv(labels, index=False)
    out = tmp_path / "hht"
    ok(run("hht", folder, out, "--size", "16", "--labels", labels))
    assert sorted(p.name for p in out.glob("*.npz")) == sorted(
        [n.replace(".txt", ".npz") for n in names] + ["Test_042.npz"]
    )
    bunch = load_hht_dir(out, shape=(16, 16))
    assert sorted(set(bunch.target)) == ["grip", "rest"] and len(bunch.test_data) == 1
    model = tmp_path / "m.semg"
    result = ok(
        run("train", out, "--method", "cnn-svm", "--cv", "2", "--base-channels", "4",
            "--output", model, "--device", "cpu")
    )  # fmt: skip
    assert "Classes: grip (" in result.stdout
    predictions = tmp_path / "p.csv"
    ok(run("predict", model, out, "--output", predictions, "--pattern", "Test*"))
    table = pd.read_csv(predictions)
    assert table["file"].tolist() == ["Test_042.npz"]
    assert table["predicted_label"].iloc[0] in {"grip", "rest"}


# -- windows of continuous recordings, and the filter --------------------------
def _expected_windows(n_times, width, step):
    """Start (in steps) of every whole window of a recording of n_times samples."""
    return list(range((n_times - width) // step + 1)) if n_times >= width else []


@pytest.fixture
def long_raw_dir(tmp_path):
    """Two-channel recordings of different lengths (one shorter than 0.2 s),
    labelled by a CSV."""
    folder = tmp_path / "long"
    folder.mkdir()
    lengths = {"a_0.txt": 600, "a_1.txt": 450, "b_0.txt": 650, "b_1.txt": 500,
               "short.txt": 150}  # fmt: skip
    X, _ = make_semg(5, n_channels=2, n_times=700, fs=1000, random_state=5)
    for (name, n), x in zip(lengths.items(), X, strict=True):
        np.savetxt(folder / name, x[:, :n].T, fmt="%.6f")
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"file": list(lengths), "label": [name[0] for name in lengths]}
    ).to_csv(labels, index=False)
    return folder, labels


def test_hht_window_writes_one_npz_per_window_and_channel(
    long_raw_dir, tmp_path, capsys
):
    folder, labels = long_raw_dir
    out = tmp_path / "hht"
    args = ["hht", str(folder), str(out), "--size", "8", "--labels", str(labels),
            "--window", "0.2", "--step", "0.1"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    # the short recording is skipped, by name, with its length
    line = next(x for x in captured.err.splitlines() if "short.txt" in x)
    assert "150 samples (0.15 s), shorter than one --window of 0.2 s" in line
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert {"source_file", "channel", "npz_file", "label", "window", "start_s",
            "stop_s", "n_times"} <= set(index.columns)  # fmt: skip
    expected = []
    for file in sorted(folder.glob("*.txt")):
        n_times = len(np.loadtxt(file))
        for w in _expected_windows(n_times, 200, 100):
            for c in (1, 2):
                expected.append((file.name, w, c, f"{file.stem}_w{w:04d}_ch{c}.npz"))
    assert sorted(
        zip(
            index["source_file"],
            index["window"],
            index["channel"],
            index["npz_file"],
            strict=True,
        )
    ) == sorted(expected)
    assert len(expected) == 2 * (5 + 3 + 5 + 4)  # 600, 450, 650, 500 samples
    assert sorted(p.name for p in out.glob("*.npz")) == sorted(index["npz_file"])
    np.testing.assert_allclose(index["start_s"], index["window"] * 0.1)
    np.testing.assert_allclose(index["stop_s"], index["start_s"] + 0.2)
    assert (index["n_times"] == 200).all()
    assert (index["label"] == index["source_file"].str[0]).all()
    assert f"{len(expected) // 2} windows of 0.2 s every 0.1 s" in captured.out
    bunch = load_hht_dir(out, shape=(8, 8))
    assert len(bunch.data) == len(expected)

    # train on that folder: the windows of one recording never straddle folds
    from sklearn_semg import evaluation
    from sklearn_semg.cli import _train_data

    seen = {}
    real_sources = _train_data._source_recordings

    def source_recordings(folder, files):
        seen["sources"] = np.asarray(real_sources(folder, files))
        return real_sources(folder, files)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluation, "evaluate_pipeline", _recording_splits(seen))
        mp.setattr(_train_data, "_source_recordings", source_recordings)
        model = tmp_path / "m.semg"
        assert main(["train", str(out), "--method", "cnn-svm", "--cv", "2",
                     "--base-channels", "4", "--output", str(model),
                     "--device", "cpu"]) == 0  # fmt: skip
    assert "StratifiedGroupKFold(2, shuffled) on the 4 source recordings" in (
        capsys.readouterr().out
    )
    assert sorted(set(seen["sources"])) == ["a_0.txt", "a_1.txt", "b_0.txt", "b_1.txt"]
    for train, test in seen["splits"]:
        assert not set(seen["sources"][train]) & set(seen["sources"][test])


def _recording_splits(seen):
    """``evaluation.evaluate_pipeline``, keeping the ``(train, test)`` folds
    it evaluated in ``seen["splits"]``."""
    from sklearn_semg import evaluation

    real = evaluation.evaluate_pipeline

    def evaluate_pipeline(*args, **kwargs):
        result = real(*args, **kwargs)
        indices = result.cv_results["indices"]
        seen["splits"] = list(zip(indices["train"], indices["test"], strict=True))
        return result

    return evaluate_pipeline


def test_hht_activity_drops_quiet_windows_in_one_line(tmp_path, capsys):
    folder = tmp_path / "raw"
    folder.mkdir()
    rng = np.random.default_rng(0)
    # 0.4 s of near silence, then 0.4 s of activity
    x = np.concatenate([1e-3 * rng.standard_normal(400), rng.standard_normal(400)])
    np.savetxt(folder / "burst.txt", x)
    out = tmp_path / "hht"
    args = ["hht", str(folder), str(out), "--size", "8", "--window", "0.2",
            "--activity", "0.5"]  # fmt: skip
    assert main(args) == 0
    warnings_ = [x for x in capsys.readouterr().err.splitlines() if "warning:" in x]
    assert len(warnings_) == 1, warnings_
    assert "--activity 0.5 dropped 2 of 4 windows (2 inactive" in warnings_[0]
    index = pd.read_csv(out / "index.csv")
    assert index["npz_file"].tolist() == ["burst_w0002.npz", "burst_w0003.npz"]
    assert index["start_s"].tolist() == [0.4, 0.6]


def test_train_window_keeps_the_windows_of_a_recording_in_one_fold(
    tmp_path, monkeypatch, capsys
):
    """Windows of the bundled recordings (1 s every 0.5 s): as many as their
    lengths give, labelled and grouped by their recording's subject."""
    from sklearn_semg import evaluation, preprocessing
    from sklearn_semg.datasets import load_movements

    seen = {}
    real_windows = preprocessing.window_recordings

    def window_recordings(X, **kwargs):
        seen["windows"] = real_windows(X, **kwargs)
        return seen["windows"]

    monkeypatch.setattr(preprocessing, "window_recordings", window_recordings)
    monkeypatch.setattr(evaluation, "evaluate_pipeline", _recording_splits(seen))
    model = tmp_path / "w.semg"
    args = ["train", "--bundled", "--method", "recommended", "--n-subjects", "2",
            "--cv", "2", "--window", "1", "--step", "0.5", "--output", str(model),
            "--n-jobs", "1"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "GroupKFold(2) on subjects" in out
    bunch = load_movements()
    first = np.isin(bunch.groups, np.unique(bunch.groups)[:2])
    lengths = [x.shape[-1] for x, keep in zip(bunch.data, first, strict=True) if keep]
    width, step = round(1 * bunch.fs), round(0.5 * bunch.fs)
    n_windows = sum(len(_expected_windows(n, width, step)) for n in lengths)
    meta = model_metadata(model)
    assert meta["window"] == {"window_s": 1.0, "step_s": 0.5, "activity": None,
                              "n_recordings": len(lengths), "n_windows": n_windows}  # fmt: skip
    assert meta["n_samples"] == n_windows and meta["filter"] is False
    assert f"{n_windows} windows of 1 s every 0.5 s of {len(lengths)} bundled" in out
    recordings = seen["windows"].metadata["recording"].to_numpy()
    assert len(recordings) == n_windows and len(seen["splits"]) == 2
    for train, test in seen["splits"]:
        assert not set(recordings[train]) & set(recordings[test])


def test_train_filter_puts_a_semgfilter_first(raw_dir, tmp_path, capsys):
    from sklearn_semg import SEMGFilter

    folder, _ = raw_dir
    model = tmp_path / "f.semg"
    args = ["train", "--bundled", "--method", "recommended", "--n-subjects", "1",
            "--cv", "0", "--filter", "--output", str(model), "--n-jobs", "1"]  # fmt: skip
    assert main(args) == 0
    assert "mains notch at 60 Hz" in capsys.readouterr().out
    assert model_metadata(model)["filter"] is True
    pipeline = load_model(model)
    name, step = pipeline.steps[0]
    assert name == "filter" and isinstance(step, SEMGFilter)
    assert step.mains_ == 60.0  # the MioTracker's line
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(folder), "--output", str(out)]) == 0
    assert len(pd.read_csv(out)) == 6


def test_window_and_filter_options_are_checked(raw_dir, npz_dir, tmp_path, capsys):
    folder, _ = raw_dir
    out = tmp_path / "out"
    hht = ["hht", str(folder), str(out), "--size", "8"]
    for option, value, why in (
        ("--window", "0", "expected a positive, finite number, got '0'"),
        ("--window", "-1", "expected a positive, finite number, got '-1'"),
        ("--window", "inf", "expected a positive, finite number, got 'inf'"),
        ("--window", "one", "expected a number, got 'one'"),
        ("--step", "0", "expected a positive, finite number, got '0'"),
        ("--activity", "-0.5", "expected a positive, finite number"),
    ):
        with pytest.raises(SystemExit) as exc:
            main([*hht, "--window", "0.2", option, value])
        assert exc.value.code == 2
        assert f"argument {option}: {why}" in capsys.readouterr().err
    for extra, fragment in (
        (["--step", "0.1"], "--step 0.1 needs --window"),
        (["--activity", "0.5"], "--activity 0.5 needs --window"),
        (["--window", "0.005"], "--window 0.005 s at 1000 Hz is 5 sample(s)"),
        (["--window", "0.2", "--step", "0.0001"], "--step 0.0001 s at 1000 Hz is"),
        (["--window", "2"], "none is as long as one --window of 2 s"),
    ):
        assert main([*hht, *extra]) == 2
        errors = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
        assert len(errors) == 1 and fragment in errors[0], errors
    assert not out.exists()  # nothing written
    # a folder of HHT matrices can be neither cut nor filtered
    train = ["train", str(npz_dir), "--method", "cnn-svm", "--output",
             str(tmp_path / "m.semg")]  # fmt: skip
    for extra, fragment in (
        (["--window", "1"], "--window cuts raw recordings into windows"),
        (["--activity", "1"], "--activity cuts raw recordings"),
        (["--filter"], "--filter filters raw recordings before their HHT"),
    ):
        assert main([*train, *extra]) == 2
        err = capsys.readouterr().err
        assert fragment in err and "--bundled" in err, err
    assert not (tmp_path / "m.semg").exists()
