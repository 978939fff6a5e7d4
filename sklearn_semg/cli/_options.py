"""Argument types and the options several commands share (windows, subjects,
the method), for the parsers of the command modules."""

import argparse

from ._common import _warn
from ._methods import METHODS, RENAMED, canonical_method, renamed_message


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _seconds(text):
    """A positive, finite number (seconds, or a ratio for --activity)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number, got {text!r}"
        )
    return value


def _int_at_least_zero(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("expected a non-zero integer (-1: all cores)")
    return value


def _method(text):
    """A method name; a former one (``svm``, ``e2e``) is translated, with a
    warning line (argparse then checks it against the choices)."""
    if text in RENAMED:
        _warn(renamed_message(text, "--method"))
    return canonical_method(text)


class _HelpFormatter(argparse.HelpFormatter):
    """Show a default only where it says something (not None or False)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def _method_option(p):
    p.add_argument(
        "--method",
        required=True,
        type=_method,
        choices=METHODS,
        help="recommended: HHT features and marginal spectrum -> SVM (the best "
        "in bench/bench_accuracy.py; raw recordings, so --bundled); cnn-svm: "
        "method 1, HHT -> frozen CNN -> SVM; end-to-end: method 2, HHT -> CNN "
        "trained end to end (the former names svm and e2e still work, with a "
        "warning, until 0.3)",
    )


def _window_options(p, *, what, then=""):
    """--window, --step and --activity: continuous recordings cut into
    windows (:func:`~sklearn_semg.preprocessing.window_recordings`)."""
    p.add_argument(
        "--window",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"cut {what} into windows of SECONDS (a last, incomplete window "
        "is left out; a recording shorter than one window is skipped, by "
        "name); each window keeps its recording's label and subject, and the "
        f"windows of one recording stay in one cross-validation fold{then}",
    )
    p.add_argument(
        "--step",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --window: time between the starts of consecutive windows "
        "(default: the window, no overlap; below it the windows overlap, above "
        "it they leave gaps)",
    )
    p.add_argument(
        "--activity",
        type=_seconds,
        default=None,
        metavar="RATIO",
        help="with --window: keep only active windows, whose RMS reaches RATIO "
        "times the median window RMS of their recording (e.g. 0.5; above 1 "
        "when most of a recording is rest); the windows dropped are counted "
        "in one warning (default: keep every window)",
    )


def _subject_options(p, *, training, what=None):
    """--subjects and --subject-pattern (and --per-subject when training)."""
    if training:
        p.add_argument(
            "--per-subject",
            action="store_true",
            help="calibrate every subject on its own recordings (method 1 and "
            "the recommended pipeline; needs the subjects, see --subjects)",
        )
    p.add_argument(
        "--subjects",
        default=None,
        metavar="CSV",
        help=f"subject of every file{what or ''}: a CSV with columns file,subject",
    )
    p.add_argument(
        "--subject-pattern",
        default=None,
        metavar="REGEX",
        help=f"subject of every file{what or ''}: the first group of REGEX "
        "searched in its name, e.g. '^(\\d+)_' for 3_1_2.txt",
    )


def _force_option(p, help):
    p.add_argument("--force", action="store_true", help=help)


def _n_jobs_option(p, help):
    p.add_argument("--n-jobs", type=_jobs, default=1, help=help)
