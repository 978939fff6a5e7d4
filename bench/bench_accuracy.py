"""Accuracy of every method on the real recordings, one table, same splits.

Tasks (../shared/data, or SKLEARN_SEMG_SHARED_DATA):

- ``mio``: MuscleTracker MioTracker, 5 movements, central 1,024 samples,
  19 subjects, subject-wise GroupKFold(5).
- ``biopac``: MuscleTracker Biopac, 5 movements, central 2,048 samples,
  30 subjects, subject-wise GroupKFold(5).
- ``biceps``: biceps fatigue, early vs late third, 2 s windows, blocked time
  split (GroupKFold(5) over 5 consecutive blocks per stage).

Pipelines (all evaluated on the same outer folds; every tuned value is chosen
by an inner GroupKFold(3) on the training folds only, never on test folds):

- ``classic``: EMGFeatures -> StandardScaler -> SVC, C in {1, 10, 100}.
- ``ref method 1``: the reference design, HHT 256x256 per-matrix max ->
  random frozen CNN (64-128-256, global pooling) -> StandardScaler ->
  SVC(C=10), the reference's fixed settings.
- ``ref method 2``: the reference end-to-end CNN (64-128-256, global pooling,
  dropout 0.5, Adam 1e-3, batch 16) on 64x64 max-normalised matrices, 25
  epochs (256x256 and 50 epochs are out of reach of a CPU benchmark).
- ``HHTFeatures``: features read off the Hilbert spectrum -> SVC, C tuned.
- ``method 1, time pooling``: HHT 64x64 over 20-450 Hz, amplitudes kept ->
  frozen CNN (16-32, 2 layers, pooling over time only) -> SVC, C tuned.
- ``marginal spectrum``: HHT 64 rows over 20-450 Hz, amplitudes kept ->
  MarginalSpectrum (log) -> SVC, C tuned.
- ``recommended``: make_recommended_pipeline, one EMD read as HHTFeatures
  and as the marginal spectrum side by side -> SVC, C tuned.
- ``method 2, regularised``: end-to-end CNN with time pooling, augmentation,
  weight decay and early stopping on 64x64 band-limited matrices.

Every pipeline is a plain scikit-learn pipeline on the raw recordings, fitted
fold by fold; they share one cache (``memory``, a temporary folder or
``--cache-dir``), so each recording is decomposed once for all of them.

    python bench/bench_accuracy.py [--tasks mio biopac biceps]
                                   [--skip-end-to-end] [--cache-dir DIR]
"""

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_semg import (
    CNNFeatureExtractor,
    EMGFeatures,
    HHTCNNClassifier,
    HHTFeatures,
    HHTTransformer,
    MarginalSpectrum,
    SubjectStandardScaler,
    make_recommended_pipeline,
)
from sklearn_semg.datasets import load_biceps_fatigue, load_muscletracker
from sklearn_semg.evaluation import evaluate_pipeline

SHARED = Path(
    os.environ.get(
        "SKLEARN_SEMG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data"
    )
)
C_GRID = [0.1, 1.0, 10.0, 100.0]


def central(recordings, n_times):
    out = []
    for rec in recordings:
        start = max((rec.shape[1] - n_times) // 2, 0)
        out.append(rec[:, start : start + n_times])
    return np.stack(out)


def load_task(name):
    if name in ("mio", "biopac"):
        device = "miotracker" if name == "mio" else "biopac"
        bunch = load_muscletracker(SHARED / "muscletracker", amplifier=device)
        X = central(bunch.data, 1024 if name == "mio" else 2048)
    else:
        bunch = load_biceps_fatigue(SHARED / "biceps_fatigue")
        X = np.asarray(bunch.data)
    return X, np.asarray(bunch.target), np.asarray(bunch.groups), float(bunch.fs)


def tuned(pipe, groups_key="svc__C", grid=None):
    """Inner GroupKFold(3) over C on the training folds only."""
    return GridSearchCV(pipe, {groups_key: grid or C_GRID}, cv=GroupKFold(3))


def evaluate(model, X, y, groups, outer, per_subject=False):
    """The outer CV (sklearn_semg.evaluation, on cross_validate): accuracy
    over all out-of-fold predictions, the spread of the fold accuracies,
    balanced accuracy, median fit time.

    Metadata routing is on for the whole run (see ``main``), so ``groups``
    define the outer folds and reach the inner searches (their folds) and,
    with ``per_subject``, the per-subject calibration at fit and predict.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = evaluate_pipeline(
            model, X, y, groups=groups, cv=outer, per_subject=per_subject
        )
    folds = result.cv_results
    return (
        result.summary["accuracy"],
        float(np.std(folds["test_accuracy"])),
        result.summary["balanced_accuracy"],
        float(np.median(folds["fit_time"])),
    )


def end_to_end(**params):
    base = dict(
        max_epochs=25,
        batch_size=16,
        lr=1e-3,
        verbose=0,
        random_state=0,
        module__base_channels=64,
        module__dropout=0.5,
    )
    base.update(params)
    return HHTCNNClassifier(**base)


def first_block_scaled(features, y, groups):
    """Biceps is one subject: its calibration statistics are those of its
    first block (the first fifth of the early windows, a rested start),
    computed once outside the cross-validation from features alone."""
    # the windows are in time order: the first block is the leading run of
    # group 0 (no labels used)
    first = np.arange(len(groups)) < np.argmax(groups != groups[0])
    return (
        SubjectStandardScaler(missing_groups="pool")
        .fit(features[first])
        .transform(features)
    )


def run_task(name, skip_end_to_end, memory, only=None):
    X, y, groups, fs = load_task(name)
    outer = GroupKFold(5)
    chance = max(np.mean(y == c) for c in np.unique(y))
    one_subject = name == "biceps"
    print(
        f"\n## {name}: {len(X)} recordings, {X.shape[1]} channel(s), "
        f"{X.shape[2]} samples, {len(np.unique(groups))} groups, "
        f"chance {chance:.2f}",
        flush=True,
    )
    band = (20.0, min(450.0, 0.45 * fs))

    def hht(**params):
        return HHTTransformer(fs=fs, memory=memory, n_jobs=2, **params)

    def hht_band():
        return hht(n_freq_bins=64, n_time_bins=64, freq_range=band, normalize=None)

    def recommended(per_subject=False):
        return make_recommended_pipeline(
            fs=fs, memory=memory, n_jobs=2, per_subject=per_subject, random_state=0
        )

    def method1(scaler):
        return make_pipeline(
            hht_band(),
            CNNFeatureExtractor(
                base_channels=16, num_layers=2, pooling="time", random_state=0
            ),
            scaler,
            SVC(),
        )

    # key: (label, model, per subject)
    rows = {
        "classic": (
            "classic (EMGFeatures + SVC)",
            tuned(make_pipeline(EMGFeatures(fs=fs), StandardScaler(), SVC())),
            False,
        ),
        "classic-subject": (
            "classic, per subject",
            tuned(make_pipeline(EMGFeatures(fs=fs), SubjectStandardScaler(), SVC())),
            True,
        ),
        "ref1": (
            "ref method 1 (256, global pool)",
            make_pipeline(
                hht(), CNNFeatureExtractor(random_state=0), StandardScaler(), SVC(C=10)
            ),
            False,
        ),
        "hhtfeatures": (
            "HHTFeatures + SVC",
            tuned(
                make_pipeline(
                    HHTFeatures(fs=fs, freq_range=band, memory=memory, n_jobs=2),
                    StandardScaler(),
                    SVC(),
                )
            ),
            False,
        ),
        "method1": ("method 1, time pooling", tuned(method1(StandardScaler())), False),
        "method1-subject": (
            "method 1, time pooling, per subject",
            tuned(method1(SubjectStandardScaler())),
            True,
        ),
        "marginal": (
            "marginal spectrum + SVC",
            tuned(
                make_pipeline(hht_band(), MarginalSpectrum(), StandardScaler(), SVC())
            ),
            False,
        ),
        "recommended": (
            "recommended (HHTFeatures+marginal)",
            tuned(recommended(), "clf__C"),
            False,
        ),
        "recommended-subject": (
            "recommended, per subject",
            tuned(recommended(per_subject=True), "clf__C"),
            True,
        ),
    }
    if not skip_end_to_end:
        rows["ref2"] = (
            "ref method 2 (64, 25 epochs)",
            make_pipeline(hht(n_freq_bins=64, n_time_bins=64), end_to_end()),
            False,
        )
        rows["method2"] = (
            "method 2, regularised",
            make_pipeline(
                hht_band(),
                end_to_end(
                    module__base_channels=16,
                    module__pooling="time",
                    augment=True,
                    optimizer__weight_decay=1e-3,
                    early_stopping=8,
                    max_epochs=40,
                ),
            ),
            False,
        )
    print(f"{'pipeline':<38}{'accuracy':>14}{'balanced':>10}{'fit s':>8}")
    for key, (label, model, per_subject) in rows.items():
        if only and key not in only:
            continue
        data = X
        if per_subject and one_subject:
            # one subject: calibrate on its first block, outside the CV (see
            # first_block_scaled); the features are unsupervised, the scaler
            # in the model then sees one already calibrated "subject"
            steps = model.estimator.steps
            features = make_pipeline(*[step for _, step in steps[:-2]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                data = first_block_scaled(features.fit_transform(X), y, groups)
            model = tuned(make_pipeline(StandardScaler(), SVC()))
            label += " (first block)"
            per_subject = False
        try:
            acc, sd, bacc, fit = evaluate(
                model, data, y, groups, outer, per_subject=per_subject
            )
        except TypeError as exc:  # an option this version does not have
            print(f"{label:<38}  skipped: {exc}")
            continue
        print(f"{label:<38}{acc:>8.3f} ±{sd:.2f}{bacc:>10.3f}{fit:>8.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["mio", "biopac", "biceps"])
    parser.add_argument(
        "--skip-end-to-end",
        "--skip-e2e",  # its former name
        action="store_true",
        help="leave out the two end-to-end CNN rows (the slow ones)",
    )
    parser.add_argument(
        "--rows", nargs="+", default=None, help="only these rows (keys of run_task)"
    )
    parser.add_argument(
        "--cache-dir", default=None, help="keep the decompositions here for reruns"
    )
    args = parser.parse_args()
    # the per-subject rows receive the subjects through metadata routing
    sklearn.set_config(enable_metadata_routing=True)
    if not SHARED.exists():
        sys.exit(f"real data not found at {SHARED}; set SKLEARN_SEMG_SHARED_DATA")
    with tempfile.TemporaryDirectory() as scratch:
        memory = args.cache_dir or scratch
        for name in args.tasks:
            run_task(name, args.skip_end_to_end, memory, only=args.rows)


if __name__ == "__main__":
    main()
