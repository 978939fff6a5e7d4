"""The installed version of sklearn-semg, for every module that needs it
(a leaf module: importing it imports nothing else of the package)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sklearn-semg")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
