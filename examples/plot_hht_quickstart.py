"""
HHT features in a cross-validated scikit-learn pipeline
=======================================================

Synthetic sEMG (band-limited noise with activation bursts, the spectrum of
class 1 shifted down as fatigue does) goes through ``HHTTransformer`` and a
linear classifier; ``cross_val_score`` reports the accuracy.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg import HHTTransformer
from sklearn_semg.datasets import make_semg

X, y = make_semg(40, n_channels=2, n_times=1000, fs=1000, random_state=0)
print(f"{len(X)} recordings, {X.shape[1]} channels, {X.shape[2]} samples each")

pipe = make_pipeline(
    HHTTransformer(fs=1000, n_freq_bins=32, n_time_bins=8, flatten=True, n_jobs=2),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
scores = cross_val_score(
    pipe, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)
)
print(f"accuracy {scores.mean():.2f} +/- {scores.std():.2f} (chance 0.50)")
