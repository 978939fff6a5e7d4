#!/usr/bin/env bash
# Walk the README from a fresh clone, timing each step (wall, user, sys):
# install, the demo (twice: the first run compiles the EMD engine), the quick
# start, train on the bundled data (methods end-to-end and recommended), the docs
# without the shared data. Usage: bash bench/walk_readme.sh [WORKDIR]
# (default /tmp/sklearn-semg-walk; it is deleted and recreated).
set -u
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/sklearn-semg-walk}"
T() { /usr/bin/time -f "  -> %e s wall, %U s user, %S s sys" "$@"; }
rm -rf "$WORK" && git clone -q "$REPO" "$WORK" && cd "$WORK"
echo "== venv + torch + package"
python3 -m venv .venv && . .venv/bin/activate
T pip install -q torch==2.13.0 2>&1 | grep -v WARNING
T pip install -q -e . 2>&1 | grep -v WARNING
echo "== demo (first run: compiles the EMD engine)"
T sklearn-semg demo --force > demo1.log 2>&1; tail -12 demo1.log
echo "== demo (second run)"
T sklearn-semg demo --force > demo2.log 2>&1; tail -3 demo2.log
echo "== quick start"
cat > qs.py <<'PY'
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn_semg import make_recommended_pipeline
from sklearn_semg.datasets import load_movements
data = load_movements()
X = [rec[:, :1024] for rec in data.data]
pipe = make_recommended_pipeline(fs=data.fs, n_jobs=2)
scores = cross_val_score(pipe, X, data.target, groups=data.groups, cv=GroupKFold(5))
print(scores.mean())
PY
T python qs.py
echo "== train --bundled --method end-to-end (defaults)"
T sklearn-semg train --bundled --method end-to-end --output end_to_end.semg > end_to_end.log 2>&1; grep -E "Cross-validation|Fitted|Saved|warning" end_to_end.log
echo "== train --bundled --method recommended"
T sklearn-semg train --bundled --method recommended --output rec.semg > rec.log 2>&1; grep -E "Cross-validation|Fitted|Saved|warning" rec.log
echo "== docs without shared data"
T pip install -q -e ".[docs]" 2>&1 | grep -v WARNING
SKLEARN_SEMG_SHARED_DATA=/nonexistent T python -m sphinx -q -W --keep-going -b html docs docs/_build/html > docs.log 2>&1; echo "docs exit $?"; tail -3 docs.log; ls docs/_build/html/index.html
