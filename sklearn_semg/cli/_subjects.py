"""The subject of every file, from ``--subjects`` (a CSV) or
``--subject-pattern`` (a regular expression on the file names): for
per-subject calibration, and for the groups of an HHT store."""

from pathlib import Path

from ._common import CLIError, _input_file, _warn


def _subjects(files, args, *, required):
    """The subject of every file, from ``--subjects`` (a CSV with columns
    ``file`` and ``subject``) or ``--subject-pattern`` (a regular expression
    whose first group, searched in the file name, is the subject); None when
    neither is given and none is required."""
    import numpy as np

    csv = getattr(args, "subjects", None)
    pattern = getattr(args, "subject_pattern", None)
    if csv and pattern:
        raise CLIError("give either --subjects or --subject-pattern, not both.")
    if not csv and not pattern:
        if required:
            raise CLIError(
                "this model calibrates every subject on its own recordings (it was "
                "trained with --per-subject): give the subject of every file with "
                "--subjects CSV (columns file,subject) or --subject-pattern REGEX "
                "(its first group, searched in each file name, e.g. '^(\\d+)_')."
            )
        return None
    names = [Path(f).name for f in files]
    found = _from_csv(csv, names) if csv else _from_pattern(pattern, names)
    return np.asarray(found, dtype=object)


def _read_subjects_csv(csv):
    """The table of ``--subjects``, checked: columns, empty cells, repeats."""
    import pandas as pd

    path = _input_file(csv, "--subjects")
    try:
        table = pd.read_csv(path, dtype=str)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CLIError(
            f"--subjects {str(path)!r} is not a readable CSV ({exc})."
        ) from None
    if not {"file", "subject"} <= set(table.columns):
        raise CLIError(
            f"--subjects {str(path)!r} needs the columns file and subject; got "
            f"{list(table.columns)}."
        )
    empty = table["file"].isna() | table["subject"].isna()
    if empty.any():
        raise CLIError(
            f"--subjects {str(path)!r} has {int(empty.sum())} row(s) with an "
            f"empty file or subject, the first at line {int(empty.idxmax()) + 2}."
        )
    repeated = table["file"][table["file"].duplicated()].tolist()
    if repeated:
        raise CLIError(
            f"--subjects {str(path)!r} names {len(repeated)} file(s) twice, "
            f"e.g. {repeated[:3]}; expected one row per file."
        )
    return path, table


def _from_csv(csv, names):
    path, table = _read_subjects_csv(csv)
    mapping = dict(zip(table["file"], table["subject"], strict=True))
    missing = [n for n in names if n not in mapping]
    if missing:
        raise CLIError(
            f"--subjects {str(path)!r} has no subject for {len(missing)} file(s), "
            f"e.g. {missing[:3]}; expected one row per file."
        )
    return [mapping[n] for n in names]


def _from_pattern(pattern, names):
    import re

    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise CLIError(
            f"--subject-pattern {pattern!r} is not a regular expression ({exc})."
        ) from None
    if regex.groups < 1:
        raise CLIError(
            f"--subject-pattern {pattern!r} has no group: put the subject in "
            "parentheses, e.g. '^(\\d+)_'."
        )
    found = [regex.search(n) for n in names]
    missing = [n for n, m in zip(names, found, strict=True) if m is None]
    if missing:
        raise CLIError(
            f"--subject-pattern {pattern!r} does not match {len(missing)} file "
            f"name(s), e.g. {missing[:3]}."
        )
    return [m.group(1) for m in found]


def _model_subjects(files, args, metadata):
    """The subjects for a saved model: required by a per-subject model,
    ignored (with a warning) by the others."""
    if metadata.get("per_subject", False):
        return _subjects(files, args, required=True)
    if getattr(args, "subjects", None) or getattr(args, "subject_pattern", None):
        _warn(
            "this model was not trained with --per-subject; --subjects and "
            "--subject-pattern are ignored."
        )
    return None
