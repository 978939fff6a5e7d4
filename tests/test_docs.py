"""The documentation builds from a checkout without the shared data.

The README's docs command once built no HTML and exited 0 for anyone without
``../shared/data``: an example stopped the Sphinx process. This test builds
the docs as such a user does (Sphinx, warnings as errors, examples run in
quick mode) from a copy of ``docs/`` and ``examples/`` with the shared data
pointing at an empty folder.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("_build", "auto_examples", "generated", "gen_modules")


def build_docs(tmp_path, **env):
    pytest.importorskip("sphinx_gallery", reason="needs the docs tools")
    pytest.importorskip("numpydoc", reason="needs the docs tools")
    shutil.copytree(
        ROOT / "docs",
        tmp_path / "docs",
        ignore=shutil.ignore_patterns(*GENERATED, "sg_execution_times.rst"),
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    environ = {
        **os.environ,
        "SKLEARN_SEMG_SHARED_DATA": str(tmp_path / "no-shared-data"),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
        **env,
    }
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(tmp_path / "docs"), str(out)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    return proc, out


@pytest.mark.slow
def test_docs_build_without_the_shared_data(tmp_path):
    proc, out = build_docs(tmp_path, SKLEARN_SEMG_DOCS_EXAMPLES="quick")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for page in ("index.html", "api.html", "auto_examples/index.html"):
        assert (out / page).is_file(), page
    # the examples that need the absent data are shown without being run ...
    for name in ("plot_fatigue_biceps", "plot_fatigue_continuous"):
        page = (out / "auto_examples" / f"{name}.html").read_text()
        assert "sphx-glr-script-out" not in page, name
    # ... and the others ran (their printed output is on their pages)
    quickstart = (out / "auto_examples" / "plot_hht_quickstart.html").read_text()
    assert (
        "accuracy" in quickstart
        and "Out:" in quickstart
        or "sphx-glr-script-out" in quickstart
    )


def test_a_build_that_writes_no_site_fails(tmp_path, monkeypatch):
    """The guard of docs/conf.py: a build without index.html is an error."""
    pytest.importorskip("sphinx_gallery", reason="needs the docs tools")
    # conf.py sets environment variables for the build: keep them to this test
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    monkeypatch.delitem(sys.modules, "conf", raising=False)
    import conf

    class Builder:
        format = "html"

    class App:
        builder = Builder()
        outdir = str(tmp_path)

    with pytest.raises(RuntimeError, match="wrote no index.html, api.html"):
        conf._check_output(App(), None)
    for page in ("index.html", "api.html", "auto_examples/index.html"):
        (tmp_path / page).parent.mkdir(exist_ok=True)
        (tmp_path / page).write_text("<html></html>")
    conf._check_output(App(), None)  # a complete site passes
    monkeypatch.delitem(sys.modules, "conf")
