"""Every script of ``examples/`` runs to completion in quick mode.

The examples are discovered automatically: a new ``examples/*.py`` gets its
own test without touching this file. Each runs in a fresh interpreter (the
way a user runs it, and isolated from the global state of the others), in a
temporary working folder, with ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` (small data,
few epochs) and the non-interactive matplotlib backend. Where it is cheap,
the test also checks a line the example prints when it is done.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
SHARED_DATA = Path(
    os.environ.get("SKLEARN_SEMG_SHARED_DATA", ROOT.parent / "shared" / "data")
)

#: Per example, a regular expression its standard output must match.
EXPECTED_OUTPUT = {
    "plot_hht_quickstart.py": r"accuracy \d\.\d\d \+/- \d\.\d\d",
    # resuming from a checkpoint gives the same history as an uninterrupted run
    "plot_method2_checkpoints.py": r"same validation losses as the resumed run: True",
    "plot_compare_methods.py": r"best: method [12]: .*\n.*subject-wise accuracy",
    "plot_fatigue_biceps.py": r"method 1: HHT \+ frozen CNN \+ SVC +\d\.\d\d",
    "plot_fatigue_continuous.py": r"\+ majority vote \(k=5\) +\d\.\d\d +\d\.\d\d",
    "plot_npz_folder_predict.py": (
        r"Test_001\.npz: [MF]_(full|half|invalid) \(confidence: \d\.\d{4}\)"
    ),
}

#: Examples that stop with an error without their sub-folder of the shared
#: data (the others fall back to the bundled data).
NEEDS_SHARED = {
    "plot_fatigue_biceps.py": "biceps_fatigue",
    "plot_fatigue_continuous.py": "biceps_fatigue",
}

#: Seconds an example may take in quick mode before the test fails.
TIMEOUT = 300


def run_example(path, cwd, **env):
    environ = {
        **os.environ,
        "SKLEARN_SEMG_EXAMPLE_QUICK": "1",
        "MPLBACKEND": "Agg",
        # The quick networks are tiny: one torch thread is the fastest, and
        # spinning OpenMP threads slow everything down on a busy CI machine.
        "OMP_NUM_THREADS": "1",
        # the checkout under test, installed or not
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
        **env,
    }
    try:
        return subprocess.run(
            # deprecations of scikit-learn & co. are FutureWarnings: fail on them
            [sys.executable, "-W", "error::FutureWarning", str(path)],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name} did not finish in {TIMEOUT} s:\n{exc.stdout}")


def check_completed(proc, name):
    assert proc.returncode == 0, (
        f"{name} failed with exit code {proc.returncode}.\n"
        f"--- stdout (end) ---\n{proc.stdout[-3000:]}\n"
        f"--- stderr (end) ---\n{proc.stderr[-3000:]}"
    )


def test_examples_are_found():
    assert len(EXAMPLES) >= 5, [p.name for p in EXAMPLES]


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example, tmp_path):
    needed = SHARED_DATA / NEEDS_SHARED.get(example.name, "")
    if not needed.is_dir():
        pytest.skip(f"{example.name} needs {needed}; set SKLEARN_SEMG_SHARED_DATA")
    proc = run_example(example, tmp_path)
    check_completed(proc, example.name)
    expected = EXPECTED_OUTPUT.get(example.name)
    if expected is not None:
        assert re.search(expected, proc.stdout), (
            f"{example.name} completed but did not print {expected!r}; its "
            f"output ends with:\n{proc.stdout[-3000:]}"
        )


def test_fatigue_example_without_data_stops_with_a_message(tmp_path):
    example = ROOT / "examples" / "plot_fatigue_biceps.py"
    proc = run_example(example, tmp_path, SKLEARN_SEMG_SHARED_DATA=str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "was not found" in proc.stderr
    assert "SKLEARN_SEMG_SHARED_DATA" in proc.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_gallery_script(example):
    """Sphinx-Gallery needs a docstring that starts with an underlined title."""
    docstring = ast.get_docstring(ast.parse(example.read_text(encoding="utf-8")))
    assert docstring, f"{example.name} has no module docstring"
    lines = [line.rstrip() for line in docstring.strip().splitlines()]
    assert len(lines) >= 2, f"{example.name}: the docstring needs a title"
    title, underline = lines[0], lines[1]
    assert re.fullmatch(r"=+", underline) and len(underline) >= len(title), (
        f"{example.name}: the title {title!r} must be underlined with '=' at "
        "least as long as it"
    )
