"""``python -m sklearn_semg.cli``: the ``sklearn-semg`` command."""

import sys

from ._main import main

if __name__ == "__main__":
    sys.exit(main())
