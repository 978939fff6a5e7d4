"""Small real data sets bundled inside the installed package (no download).

``data/muscletracker_miotracker.npz`` holds every MioTracker recording of the
MuscleTracker data set (CC0 1.0, see ``data/muscletracker_LICENSE.txt``); it
is rebuilt by ``python tools/build_bundled.py``.

Layout of the archive (format version 1), ``n`` recordings:

- ``samples``: int16 ``(2, total)``, all recordings concatenated on time;
- ``offsets``, ``lengths``: int64 ``(n,)``, first column and length of each;
- ``subject``, ``repetition``, ``movement``: int64 ``(n,)``;
- ``gender``: str ``(n,)``, ``"M"``, ``"F"`` or ``""`` (unknown);
- ``file``: str ``(n,)``, the original file names;
- ``format_version``: int64 scalar.
"""

from importlib import resources

import numpy as np

from ._base import muscletracker_bunch, muscletracker_descr

__all__ = ["BUNDLED_FILE", "BUNDLED_LICENSE_FILE", "load_movements"]

#: Archive of the bundled MioTracker recordings, in ``sklearn_semg/datasets/data``.
BUNDLED_FILE = "muscletracker_miotracker.npz"
#: Licence notice shipped beside it.
BUNDLED_LICENSE_FILE = "muscletracker_LICENSE.txt"
#: Version of the archive layout written by ``build_bundled``.
FORMAT_VERSION = 1

_FIELDS = (
    "samples",
    "offsets",
    "lengths",
    "subject",
    "repetition",
    "movement",
    "gender",
    "file",
    "format_version",
)


def bundled_path(name=BUNDLED_FILE):
    """Traversable of a file in the package's ``datasets/data`` folder."""
    return resources.files(__package__).joinpath("data", name)


def _read_bundle(ref):
    with resources.as_file(ref) as file:
        if not file.is_file():
            raise FileNotFoundError(
                f"The bundled data file {str(file)!r} is missing from the "
                "installation. Reinstall sklearn-semg, or rebuild it with "
                "`python tools/build_bundled.py --source "
                "PATH/TO/shared/data`."
            )
        with np.load(file, allow_pickle=False) as archive:
            missing = [f for f in _FIELDS if f not in archive.files]
            if missing:
                raise ValueError(
                    f"The bundled data file {str(file)!r} lacks {missing}; it is "
                    "damaged or from another version. Rebuild it with `python "
                    "tools/build_bundled.py --force` (in a clone of the repository)."
                )
            arrays = {f: archive[f] for f in _FIELDS}
    version = int(arrays["format_version"])
    if version != FORMAT_VERSION:
        raise ValueError(
            f"The bundled data file {str(file)!r} has format version {version}; "
            f"this sklearn-semg reads version {FORMAT_VERSION}. Rebuild it with "
            "`python tools/build_bundled.py --force`."
        )
    return arrays


def load_movements():
    """Load the MioTracker hand-movement recordings bundled with the package.

    All 380 MioTracker recordings (19 subjects x 4 repetitions x 5 movements,
    two channels, about 1.2 to 3.4 s at 1001 Hz) of the MuscleTracker data set,
    "Surface Electromyography Dataset from Different Movements of the Hand
    using a portable and a non-portable device" (E. Morales-Vargas et al.,
    CC0 1.0). They are stored inside the package as the original integer
    samples, so this works offline and gives exactly what
    ``load_muscletracker(path, amplifier="miotracker")`` reads from the text
    files. Use ``groups`` (subject) for subject-wise cross-validation.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The layout of :func:`load_muscletracker`:

        data : list of ndarray of shape (2, n_times_i)
            float64 recordings, integer counts of the MioTracker.
        target : ndarray of shape (380,)
            Movement name (str) of each recording.
        target_names : ndarray of shape (5,)
            The movement names, in movement-number order.
        groups : ndarray of shape (380,)
            Subject number (int), for ``GroupKFold``.
        metadata : pandas.DataFrame
            ``file``, ``subject``, ``repetition``, ``movement`` (int 1-5),
            ``movement_name``, ``gender`` (``"M"``, ``"F"`` or NA),
            ``n_times``.
        fs : float
            Sampling rate, 1001.0 Hz.
        amplifier : str
            ``"miotracker"``.
        device : str
            The same, under its former name (deprecated, removed in 0.3).
        DESCR : str
            Description of the data set, its source and licence.
        problems : list
            Always empty (kept for the same layout).

    See Also
    --------
    load_muscletracker : Read the full data set (both devices) from its files.

    Examples
    --------
    >>> from sklearn.model_selection import GroupKFold
    >>> from sklearn_semg.datasets import load_movements
    >>> bunch = load_movements()
    >>> len(bunch.data), bunch.data[0].shape, bunch.fs
    (380, (2, 2090), 1001.0)
    >>> bunch.target_names.tolist()
    ['pronation with extended fingers', 'flexion', 'extension',
     'pronation with flexed fingers', 'relaxation']
    >>> bunch.metadata["subject"].nunique(), bunch.target[:2].tolist()
    (19, ['pronation with extended fingers', 'flexion'])
    >>> cv = GroupKFold(n_splits=5)
    >>> train, test = next(cv.split(bunch.data, bunch.target, bunch.groups))
    >>> set(bunch.groups[train]) & set(bunch.groups[test])
    set()
    """
    arrays = _read_bundle(bundled_path())
    samples = arrays["samples"]
    data = [
        samples[:, o : o + n].astype(np.float64)
        for o, n in zip(arrays["offsets"], arrays["lengths"], strict=True)
    ]
    subject = arrays["subject"]
    return muscletracker_bunch(
        data=data,
        files=arrays["file"],
        subject=subject,
        repetition=arrays["repetition"],
        movement=arrays["movement"],
        gender=arrays["gender"],
        amplifier="miotracker",
        descr=muscletracker_descr(
            "miotracker", len(data), len(np.unique(subject)), bundled=True
        ),
        problems=[],
    )
