"""The ``sklearn-semg`` command line.

Commands (``sklearn-semg COMMAND --help`` for each), one module each:

``demo`` (``sklearn_semg.cli.demo``)
    Every method on the bundled MioTracker recordings, with subject-wise
    cross-validation (:mod:`sklearn_semg.evaluation`); prints a table and
    writes figures.
``hht`` (``sklearn_semg.cli.hht``)
    A folder of raw text recordings to a folder of ``.npz`` HHT matrices (one
    per file and channel) named so that they load back with their labels, or
    to one chunked, resumable Zarr store (``--format zarr``).
``train`` (``sklearn_semg.cli.train``)
    Cross-validate and fit the recommended pipeline, method 1 (``cnn-svm``)
    or method 2 (``end-to-end``) on an ``.npz`` folder or on the bundled data;
    save the fitted pipeline.
``predict`` (``sklearn_semg.cli.predict``)
    Apply a saved model to a folder of ``.npz`` matrices or raw recordings;
    write a CSV of predicted labels and confidences.
``evaluate`` (``sklearn_semg.cli.evaluate``)
    Score a saved model on labelled data: accuracy, balanced accuracy,
    classification report, confusion matrix figure.

Every command checks its inputs and outputs before any long work. A user
error (missing or empty folder, existing output without ``--force``, a file
that is not a model...) is a ``CLIError``: one line ``sklearn-semg COMMAND:
error: ...`` on stderr and exit status 2. Errors the library raises on user
data are caught where the command calls it and reported the same way, naming
the file; any other exception is a bug and shows its traceback. Outputs are
written to a temporary name in the same folder and renamed into place, and an
existing file is replaced only with ``--force``.

The package depends on the library, never the reverse; heavy imports (torch,
matplotlib) happen inside the commands, so ``--help`` is fast.
"""

# CLIError and build_parser are importable from here too (tests, tools); they
# are not part of the documented API.
from ._common import CLIError as CLIError
from ._main import build_parser as build_parser
from ._main import main
from .demo import DEMO_SETTINGS, QUICK_DEMO_SETTINGS

__all__ = ["DEMO_SETTINGS", "QUICK_DEMO_SETTINGS", "main"]
