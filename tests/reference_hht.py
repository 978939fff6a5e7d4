"""Independent, deliberately simple oracle: the reference notebook's HHT.

This is ``compute_hht_matrix`` from the research notebook, kept as plain loops
on purpose so that it shares no code with ``sklearn_semg.hht``. The exactness
tests and ``bench/bench_hht.py`` compare the package against it.
"""

import numpy as np
from PyEMD import EMD
from scipy.signal import hilbert


def reference_hht_matrix(signal, fs, matrix_size=256, max_imf=10):
    emd = EMD()
    imfs = emd(signal, max_imf=max_imf)

    n_samples = len(signal)
    t = np.arange(n_samples) / fs
    hht_matrix = np.zeros((matrix_size, matrix_size))

    for imf in imfs:
        analytic = hilbert(imf)
        amplitude = np.abs(analytic)
        phase = np.unwrap(np.angle(analytic))
        inst_freq = np.diff(phase) / (2 * np.pi) * fs
        inst_freq = np.concatenate([inst_freq, [inst_freq[-1]]])
        inst_freq = np.clip(inst_freq, 0, fs / 2)

        for ti, fi, ai in zip(t, inst_freq, amplitude, strict=True):
            t_idx = int(ti / t[-1] * (matrix_size - 1))
            f_idx = int(fi / (fs / 2) * (matrix_size - 1))
            t_idx = np.clip(t_idx, 0, matrix_size - 1)
            f_idx = np.clip(f_idx, 0, matrix_size - 1)
            hht_matrix[f_idx, t_idx] += ai

    if hht_matrix.max() > 0:
        hht_matrix = hht_matrix / hht_matrix.max()
    return hht_matrix.astype(np.float32)
