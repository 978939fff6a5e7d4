"""The names of the methods, in one place: the spelling of ``--method``, the
former names still read (with a warning) for one release, and the label of
each method in tables and model files."""

import warnings

#: The values of ``train --method``.
METHODS = ("recommended", "cnn-svm", "end-to-end")

#: Former spellings of the methods (sklearn-semg 0.1), accepted until 0.3.
RENAMED = {"svm": "cnn-svm", "e2e": "end-to-end"}

#: The label of every method (and demo row) in tables and model files.
METHOD_NAMES = {
    "recommended": "recommended: HHT features + marginal spectrum -> SVM",
    "recommended_filter": "recommended + SEMGFilter",
    "recommended_subject": "recommended, calibrated per subject",
    "cnn-svm": "cnn-svm (method 1): HHT -> frozen CNN -> SVM",
    "end-to-end": "end-to-end (method 2): HHT -> CNN trained end to end",
}


def canonical_method(name):
    """The current spelling of a method name (a former one is translated);
    anything else is returned unchanged."""
    return RENAMED.get(name, name)


def renamed_message(old, where):
    """The warning for the former name ``old`` of a method, used in ``where``."""
    return (
        f"{where} {old!r} was renamed {RENAMED[old]!r}; the old name still works "
        "but will be removed in sklearn-semg 0.3."
    )


class Settings(dict):
    """A dict of settings keyed by method, whose former keys (``"svm"``,
    ``"e2e"``) still read, with a ``FutureWarning``."""

    def __missing__(self, key):
        if key in RENAMED:
            warnings.warn(
                renamed_message(key, "the settings key"), FutureWarning, stacklevel=2
            )
            return self[RENAMED[key]]
        raise KeyError(key)
