"""The parser of ``sklearn-semg`` (one sub-parser per command module) and
``main``, which runs a command and turns its errors into exit statuses."""

import argparse
import sys

from ._common import PROG, CLIError
from ._options import _HelpFormatter
from .demo import add_parser as _add_demo
from .evaluate import add_parser as _add_evaluate
from .hht import add_parser as _add_hht
from .predict import add_parser as _add_predict
from .train import add_parser as _add_train

#: The sub-parser of every command module, in the order of ``--help``.
COMMANDS = (_add_demo, _add_hht, _add_train, _add_predict, _add_evaluate)


def build_parser():
    """The argument parser of ``sklearn-semg`` (one sub-parser per command)."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Surface-EMG classification with Hilbert-Huang transforms and CNNs "
            "as scikit-learn pipelines. Run `sklearn-semg COMMAND --help` for the "
            "options of a command."
        ),
        epilog=(
            "Errors (missing or empty folder, existing output without --force, "
            "bad options) exit with status 2."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_parser in COMMANDS:
        add_parser(sub, _HelpFormatter)
    return parser


def main(argv=None):
    """Run ``sklearn-semg`` with ``argv`` (default ``sys.argv[1:]``).

    A user error (``CLIError``: a missing or empty folder, an existing
    output without ``--force``, a file that is not a model, data the library
    refused at a call site that names the file) is printed as one line
    ``sklearn-semg COMMAND: error: ...`` and ends with its status (2). Ctrl-C
    ends with 130; outputs are written to temporary names and renamed into
    place at the end, so nothing half-written is left. Any other exception
    is a bug and propagates with its traceback.

    Returns
    -------
    status : int
        0 on success, 2 on a user error (message on stderr), 130 when
        interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        # outputs are written at the end, to a temporary name: nothing written
        print(
            f"\n{PROG} {args.command}: interrupted; nothing was written.",
            file=sys.stderr,
        )
        return 130
