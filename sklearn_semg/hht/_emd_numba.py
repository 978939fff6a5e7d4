"""The compiled EMD engine: PyEMD's ``EMD.emd`` reproduced in numba.

Every step follows the EMD-signal package (PyEMD) with its default
``spline_kind="cubic"`` and ``extrema_detection="simple"``, operation for
operation, so that the IMFs agree to round-off (in practice bit for bit):

- extrema and zero crossings as ``EMD._find_extrema_simple``, plateaus and
  their edge rules included;
- the ``nbsym`` mirrored extrema of ``EMD.prepare_points_simple``;
- envelopes as ``scipy.interpolate.CubicSpline`` with its not-a-knot ends
  (the same tridiagonal system, solved as LAPACK's ``gtsv`` does, the same
  piecewise-polynomial coefficients and evaluation), or PyEMD's
  ``cubic_spline_3pts`` for three knots;
- the stopping rules of ``EMD.check_imf`` and ``EMD.end_condition``, with
  numpy's pairwise summation, so that every threshold sees the same number.

What PyEMD would not survive (fewer than three knots, knots out of order, the
"edge BUG" branch), a status code hands back to the caller, which then runs
PyEMD itself on that signal: the result is PyEMD's in every case.

This module imports numba; :mod:`sklearn_semg.hht._emd` imports it only when
the compiled back-end is first used, so ``import sklearn_semg`` stays light.
"""

import numpy as np
from numba import njit

__all__ = ["STATUS_OK", "STATUS_DEFER", "emd_kernel"]

#: The kernel finished; its IMFs are PyEMD's.
STATUS_OK = 0
#: The kernel met a case it does not reproduce (PyEMD raises there, or takes
#: a branch we do not follow); run PyEMD on this signal instead.
STATUS_DEFER = 1

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _block_sum(a, lo, n):
    """numpy's pairwise summation of at most 128 values (one leaf)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_JIT)
def _pairwise_sum(a, lo, n):
    """``np.sum(a[lo:lo + n])``, with numpy's pairwise summation: halves (cut
    at a multiple of 8) summed recursively down to leaves of <= 128 values.

    The recursion runs on an explicit stack: numba cannot reload a cached
    recursive function safely.
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    stages = np.empty(64, dtype=np.int64)
    lefts = np.empty(64)
    top = 0
    starts[0] = lo
    sizes[0] = n
    stages[0] = 0
    value = 0.0
    while top >= 0:
        m = sizes[top]
        if stages[top] == 0:
            if m <= 128:
                value = _block_sum(a, starts[top], m)
                top -= 1
                continue
            half = m // 2
            half -= half % 8
            stages[top] = 1
            starts[top + 1] = starts[top]
            sizes[top + 1] = half
            stages[top + 1] = 0
            top += 1
        elif stages[top] == 1:  # the left half is in value
            lefts[top] = value
            half = m // 2
            half -= half % 8
            stages[top] = 2
            starts[top + 1] = starts[top] + half
            sizes[top + 1] = m - half
            stages[top + 1] = 0
            top += 1
        else:  # the right half is in value
            value = lefts[top] + value
            top -= 1
    return value


@njit(**_JIT)
def _terms(new, old):
    """The four terms of ``EMD.check_imf`` for one sample: ``new**2``,
    ``diff**2``, ``(diff / new)**2`` and ``old**2``, ``diff = new - old``."""
    diff = new - old
    ratio = diff / new
    return new * new, diff * diff, ratio * ratio, old * old


@njit(**_JIT)
def _block_sum4(imf, old, lo, n):
    """:func:`_block_sum` of the four :func:`_terms` at once (eight
    accumulators per term, in scalars)."""
    if n < 8:
        s0 = s1 = s2 = s3 = 0.0
        for i in range(lo, lo + n):
            t0, t1, t2, t3 = _terms(imf[i], old[i])
            s0 += t0
            s1 += t1
            s2 += t2
            s3 += t3
        return s0, s1, s2, s3
    t0, t1, t2, t3 = _terms(imf[lo + 0], old[lo + 0])
    a0 = t0
    b0 = t1
    c0 = t2
    e0 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 1], old[lo + 1])
    a1 = t0
    b1 = t1
    c1 = t2
    e1 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 2], old[lo + 2])
    a2 = t0
    b2 = t1
    c2 = t2
    e2 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 3], old[lo + 3])
    a3 = t0
    b3 = t1
    c3 = t2
    e3 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 4], old[lo + 4])
    a4 = t0
    b4 = t1
    c4 = t2
    e4 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 5], old[lo + 5])
    a5 = t0
    b5 = t1
    c5 = t2
    e5 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 6], old[lo + 6])
    a6 = t0
    b6 = t1
    c6 = t2
    e6 = t3
    t0, t1, t2, t3 = _terms(imf[lo + 7], old[lo + 7])
    a7 = t0
    b7 = t1
    c7 = t2
    e7 = t3
    i = 8
    stop = n - (n % 8)
    while i < stop:
        t0, t1, t2, t3 = _terms(imf[lo + i + 0], old[lo + i + 0])
        a0 += t0
        b0 += t1
        c0 += t2
        e0 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 1], old[lo + i + 1])
        a1 += t0
        b1 += t1
        c1 += t2
        e1 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 2], old[lo + i + 2])
        a2 += t0
        b2 += t1
        c2 += t2
        e2 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 3], old[lo + i + 3])
        a3 += t0
        b3 += t1
        c3 += t2
        e3 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 4], old[lo + i + 4])
        a4 += t0
        b4 += t1
        c4 += t2
        e4 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 5], old[lo + i + 5])
        a5 += t0
        b5 += t1
        c5 += t2
        e5 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 6], old[lo + i + 6])
        a6 += t0
        b6 += t1
        c6 += t2
        e6 += t3
        t0, t1, t2, t3 = _terms(imf[lo + i + 7], old[lo + i + 7])
        a7 += t0
        b7 += t1
        c7 += t2
        e7 += t3
        i += 8
    s0 = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    s1 = ((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + b7))
    s2 = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))
    s3 = ((e0 + e1) + (e2 + e3)) + ((e4 + e5) + (e6 + e7))
    while i < n:
        t0, t1, t2, t3 = _terms(imf[lo + i], old[lo + i])
        s0 += t0
        s1 += t1
        s2 += t2
        s3 += t3
        i += 1
    return s0, s1, s2, s3


@njit(**_JIT)
def _check_sums(imf, old):
    """``np.sum`` of each of the four :func:`_terms` over the signal, in
    numpy's pairwise order (the tree of :func:`_pairwise_sum`), in one pass.
    """
    n = imf.shape[0]
    if n <= 128:
        return _block_sum4(imf, old, 0, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    stages = np.empty(64, dtype=np.int64)
    lefts = np.empty((64, 4))
    top = 0
    starts[0] = 0
    sizes[0] = n
    stages[0] = 0
    v0 = v1 = v2 = v3 = 0.0
    while top >= 0:
        m = sizes[top]
        if stages[top] == 0:
            if m <= 128:
                v0, v1, v2, v3 = _block_sum4(imf, old, starts[top], m)
                top -= 1
                continue
            half = m // 2
            half -= half % 8
            stages[top] = 1
            starts[top + 1] = starts[top]
            sizes[top + 1] = half
            stages[top + 1] = 0
            top += 1
        elif stages[top] == 1:
            lefts[top, 0] = v0
            lefts[top, 1] = v1
            lefts[top, 2] = v2
            lefts[top, 3] = v3
            half = m // 2
            half -= half % 8
            stages[top] = 2
            starts[top + 1] = starts[top] + half
            sizes[top + 1] = m - half
            stages[top + 1] = 0
            top += 1
        else:
            v0 = lefts[top, 0] + v0
            v1 = lefts[top, 1] + v1
            v2 = lefts[top, 2] + v2
            v3 = lefts[top, 3] + v3
            top -= 1
    return v0, v1, v2, v3


@njit(**_JIT)
def _round_half_even(s):
    """``np.round(s / 2.0)`` for a non-negative integer ``s``."""
    half = s // 2
    if s % 2 == 0 or half % 2 == 0:
        return half
    return half + 1


@njit(**_JIT)
def _find_extrema(S, d, imax, imin, work_max, work_min, debs, fins):
    """``EMD._find_extrema_simple``: fills ``imax``/``imin`` with the sorted
    indices of the maxima and minima; returns ``(n_max, n_min, n_zero)``,
    where ``n_zero`` is the length of PyEMD's zero-crossing index list."""
    N = S.shape[0]
    # zero crossings (strict sign changes), differences, and whether there
    # are exact zeros or plateaus at all: one pass that vectorises
    n_zero = 0
    any_zero = False
    flat = False
    for i in range(N - 1):
        a = S[i]
        b = S[i + 1]
        n_zero += a * b < 0.0
        any_zero |= a == 0.0
        diff = b - a
        flat |= diff == 0.0
        d[i] = diff
    any_zero |= S[N - 1] == 0.0
    if any_zero:  # plus one per run of exact zeros
        previous_zero = False
        for i in range(N):
            is_zero = S[i] == 0.0
            n_zero += is_zero & (not previous_zero)
            previous_zero = is_zero

    # strict extrema (sign changes of d), branchless: indices are stored
    # unconditionally and kept by advancing the count (data-dependent
    # branches mispredict on noise-like signals)
    n_max = 0
    n_min = 0
    for i in range(N - 2):
        d0 = d[i]
        change = d0 * d[i + 1] < 0.0
        imin[n_min] = i + 1
        n_min += change & (d0 < 0.0)
        imax[n_max] = i + 1
        n_max += change & (d0 > 0.0)
    if not flat:  # no plateau: done
        return n_max, n_min, n_zero
    for k in range(n_max):
        work_max[k] = imax[k]
    for k in range(n_min):
        work_min[k] = imin[k]

    # plateaus: runs of d == 0, from debs to fins (exclusive), in d's indices
    n_runs = 0
    i = 0
    while i < N - 1:
        if d[i] == 0.0:
            j = i
            while j < N - 1 and d[j] == 0.0:
                j += 1
            debs[n_runs] = i
            fins[n_runs] = j
            n_runs += 1
            i = j
        else:
            i += 1
    first = 0
    last = n_runs
    # PyEMD drops a run that starts at d[1] (not d[0]) and one that reaches
    # the end of the signal
    if last > first and debs[first] == 1:
        first = first + 1 if last - first > 1 else last
    if last > first and fins[last - 1] == N - 1:
        last = last - 1 if last - first > 1 else first

    # merge the sign-change extrema with the plateau midpoints, in order
    k_max = 0
    k_min = 0
    out_max = 0
    out_min = 0
    for r in range(first, last):
        start = debs[r]
        before = d[start - 1] if start >= 1 else d[N - 2]  # numpy's d[-1]
        after = d[fins[r]]
        if before > 0.0 and after < 0.0:
            mid = _round_half_even(start + fins[r])
            while k_max < n_max and work_max[k_max] < mid:
                imax[out_max] = work_max[k_max]
                out_max += 1
                k_max += 1
            imax[out_max] = mid
            out_max += 1
        elif before < 0.0 and after > 0.0:
            mid = _round_half_even(start + fins[r])
            while k_min < n_min and work_min[k_min] < mid:
                imin[out_min] = work_min[k_min]
                out_min += 1
                k_min += 1
            imin[out_min] = mid
            out_min += 1
    while k_max < n_max:
        imax[out_max] = work_max[k_max]
        out_max += 1
        k_max += 1
    while k_min < n_min:
        imin[out_min] = work_min[k_min]
        out_min += 1
        k_min += 1
    return out_max, out_min, n_zero


@njit(**_JIT)
def _take_reversed(src, start, stop, dst):
    """``dst[:k] = src[start:stop][::-1]``; returns ``k`` (0 if empty)."""
    k = 0
    for i in range(stop - 1, start - 1, -1):
        dst[k] = src[i]
        k += 1
    return k


@njit(**_JIT)
def _mirror_points(S, imax, n_max, imin, n_min, nbsym, lmax, lmin, rmax, rmin):
    """``EMD.prepare_points_simple`` up to the mirrored index lists.

    Returns ``(n_lmax, n_lmin, n_rmax, n_rmin, lsym, rsym, status)``.
    """
    N = S.shape[0]
    # ---- left edge
    if imax[0] < imin[0]:
        if S[0] > S[imin[0]]:
            n_lmax = _take_reversed(imax, 1, min(n_max, nbsym + 1), lmax)
            n_lmin = _take_reversed(imin, 0, min(n_min, nbsym), lmin)
            lsym = imax[0]
        else:
            n_lmax = _take_reversed(imax, 0, min(n_max, nbsym), lmax)
            n_lmin = _take_reversed(imin, 0, min(n_min, nbsym - 1), lmin)
            lmin[n_lmin] = 0
            n_lmin += 1
            lsym = 0
    else:
        if S[0] < S[imax[0]]:
            n_lmax = _take_reversed(imax, 0, min(n_max, nbsym), lmax)
            n_lmin = _take_reversed(imin, 1, min(n_min, nbsym + 1), lmin)
            lsym = imin[0]
        else:
            n_lmax = _take_reversed(imax, 0, min(n_max, nbsym - 1), lmax)
            lmax[n_lmax] = 0
            n_lmax += 1
            n_lmin = _take_reversed(imin, 0, min(n_min, nbsym), lmin)
            lsym = 0
    # ---- right edge
    if imax[n_max - 1] < imin[n_min - 1]:
        if S[N - 1] < S[imax[n_max - 1]]:
            n_rmax = _take_reversed(imax, max(n_max - nbsym, 0), n_max, rmax)
            n_rmin = _take_reversed(imin, max(n_min - nbsym - 1, 0), n_min - 1, rmin)
            rsym = imin[n_min - 1]
        else:
            rmax[0] = N - 1
            n_rmax = 1 + _take_reversed(
                imax, max(n_max - nbsym + 1, 0), n_max, rmax[1:]
            )
            n_rmin = _take_reversed(imin, max(n_min - nbsym, 0), n_min, rmin)
            rsym = N - 1
    else:
        if S[N - 1] > S[imin[n_min - 1]]:
            n_rmax = _take_reversed(imax, max(n_max - nbsym - 1, 0), n_max - 1, rmax)
            n_rmin = _take_reversed(imin, max(n_min - nbsym, 0), n_min, rmin)
            rsym = imax[n_max - 1]
        else:
            n_rmax = _take_reversed(imax, max(n_max - nbsym, 0), n_max, rmax)
            rmin[0] = N - 1
            n_rmin = 1 + _take_reversed(
                imin, max(n_min - nbsym + 1, 0), n_min, rmin[1:]
            )
            rsym = N - 1

    # an empty list falls back to all extrema of that kind, in order
    cap = lmax.shape[0]
    if n_lmin == 0:
        if n_min > cap:
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        lmin[:n_min] = imin[:n_min]
        n_lmin = n_min
    if n_rmin == 0:
        if n_min > cap:
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        rmin[:n_min] = imin[:n_min]
        n_rmin = n_min
    if n_lmax == 0:
        if n_max > cap:
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        lmax[:n_max] = imax[:n_max]
        n_lmax = n_max
    if n_rmax == 0:
        if n_max > cap:
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        rmax[:n_max] = imax[:n_max]
        n_rmax = n_max

    # mirrored points still inside the signal: mirror about its first sample
    if 2 * lsym - lmin[0] > 0 or 2 * lsym - lmax[0] > 0:
        if lsym == imax[0]:
            n_lmax = _take_reversed(imax, 0, min(n_max, nbsym), lmax)
        else:
            n_lmin = _take_reversed(imin, 0, min(n_min, nbsym), lmin)
        if lsym == 0:  # PyEMD raises "Left edge BUG"
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        lsym = 0
    if 2 * rsym - rmin[n_rmin - 1] < N - 1 or 2 * rsym - rmax[n_rmax - 1] < N - 1:
        if rsym == imax[n_max - 1]:
            n_rmax = _take_reversed(imax, max(n_max - nbsym, 0), n_max, rmax)
        else:
            n_rmin = _take_reversed(imin, max(n_min - nbsym, 0), n_min, rmin)
        if rsym == N - 1:  # PyEMD raises "Right edge BUG"
            return 0, 0, 0, 0, 0, 0, STATUS_DEFER
        rsym = N - 1
    return n_lmax, n_lmin, n_rmax, n_rmin, lsym, rsym, STATUS_OK


@njit(**_JIT)
def _knots(S, ext, n_ext, left, n_left, lsym, right, n_right, rsym, kt, kz):
    """Knot positions and values: mirrored left, extrema, mirrored right, with
    PyEMD's removal of repeated positions (the later copy is kept)."""
    n = 0
    for k in range(n_left):
        kt[n] = 2.0 * lsym - left[k]
        kz[n] = S[left[k]]
        n += 1
    for k in range(n_ext):
        kt[n] = float(ext[k])
        kz[n] = S[ext[k]]
        n += 1
    for k in range(n_right):
        kt[n] = 2.0 * rsym - right[k]
        kz[n] = S[right[k]]
        n += 1
    m = 0
    for k in range(n):
        if k == n - 1 or kt[k + 1] != kt[k]:
            kt[m] = kt[k]
            kz[m] = kz[k]
            m += 1
    return m


@njit(**_JIT)
def _not_a_knot_system(x, y, n, dx, slope, dl, dd, du, b):
    """scipy's tridiagonal system of a not-a-knot ``CubicSpline`` (slopes)."""
    for i in range(n - 1):
        dx[i] = x[i + 1] - x[i]
        slope[i] = (y[i + 1] - y[i]) / dx[i]
    d = x[2] - x[0]
    dd[0] = dx[1]
    du[0] = d
    b[0] = ((dx[0] + 2 * d) * dx[1] * slope[0] + dx[0] * dx[0] * slope[1]) / d
    for i in range(1, n - 1):
        dl[i - 1] = dx[i]
        dd[i] = 2 * (dx[i - 1] + dx[i])
        du[i] = dx[i - 1]
        b[i] = 3 * (dx[i] * slope[i - 1] + dx[i - 1] * slope[i])
    d = x[n - 1] - x[n - 3]
    dl[n - 2] = d
    dd[n - 1] = dx[n - 3]
    b[n - 1] = (
        dx[n - 2] * dx[n - 2] * slope[n - 3]
        + (2 * d + dx[n - 2]) * dx[n - 3] * slope[n - 2]
    ) / d


@njit(**_JIT)
def _gtsv_eliminate(i, dl, dd, du, b, last):
    """Row ``i`` of LAPACK dgtsv's elimination (partial pivoting, one rhs);
    ``dl[i]`` becomes the second superdiagonal. False if singular."""
    if abs(dd[i]) >= abs(dl[i]):
        if dd[i] == 0.0:
            return False
        fact = dl[i] / dd[i]
        dd[i + 1] = dd[i + 1] - fact * du[i]
        b[i + 1] = b[i + 1] - fact * b[i]
        if not last:
            dl[i] = 0.0
    else:
        fact = dd[i] / dl[i]
        dd[i] = dl[i]
        temp = dd[i + 1]
        dd[i + 1] = du[i] - fact * temp
        if not last:
            dl[i] = du[i + 1]
            du[i + 1] = -fact * dl[i]
        du[i] = temp
        temp = b[i]
        b[i] = b[i + 1]
        b[i + 1] = temp - fact * b[i + 1]
    return True


@njit(**_JIT)
def _gtsv_pair(na, dla, dda, dua, ba, nb, dlb, ddb, dub, bb):
    """Two tridiagonal systems solved as LAPACK's dgtsv solves each, row by
    row side by side: the two chains of dependent divisions overlap in the
    processor. ``ba``/``bb`` receive the solutions; False if one is singular.
    """
    ok = True
    for i in range(max(na, nb) - 2):
        if i < na - 2:
            ok &= _gtsv_eliminate(i, dla, dda, dua, ba, False)
        if i < nb - 2:
            ok &= _gtsv_eliminate(i, dlb, ddb, dub, bb, False)
    ok &= _gtsv_eliminate(na - 2, dla, dda, dua, ba, True)
    ok &= _gtsv_eliminate(nb - 2, dlb, ddb, dub, bb, True)
    if not ok or dda[na - 1] == 0.0 or ddb[nb - 1] == 0.0:
        return False
    ba[na - 1] = ba[na - 1] / dda[na - 1]
    ba[na - 2] = (ba[na - 2] - dua[na - 2] * ba[na - 1]) / dda[na - 2]
    bb[nb - 1] = bb[nb - 1] / ddb[nb - 1]
    bb[nb - 2] = (bb[nb - 2] - dub[nb - 2] * bb[nb - 1]) / ddb[nb - 2]
    for k in range(max(na, nb) - 2):
        i = na - 3 - k
        if i >= 0:
            ba[i] = (ba[i] - dua[i] * ba[i + 1] - dla[i] * ba[i + 2]) / dda[i]
        i = nb - 3 - k
        if i >= 0:
            bb[i] = (bb[i] - dub[i] * bb[i + 1] - dlb[i] * bb[i + 2]) / ddb[i]
    return True


@njit(**_JIT)
def _hermite_evaluate(x, y, n, N, out, dx, slope, s, c0, c1):
    """CubicHermiteSpline's coefficients from the slopes ``s`` (into ``c0``,
    ``c1``), evaluated on ``arange(N)`` as scipy's PPoly evaluates them."""
    for i in range(n - 1):
        t = (s[i] + s[i + 1] - 2 * slope[i]) / dx[i]
        c0[i] = t / dx[i]
        c1[i] = (slope[i] - s[i]) / dx[i] - t
    # interval k holds the samples x[k] <= j < x[k + 1] (the last one also
    # j == x[n - 1]); the inner loop has no branch, so it vectorises
    j = 0
    for k in range(n - 1):
        stop = N if k == n - 2 else min(N, int(np.ceil(x[k + 1])))
        if stop <= j:
            continue
        xk = x[k]
        a3 = c0[k]
        a2 = c1[k]
        a1 = s[k]
        a0 = y[k]
        for i in range(j, stop):
            u = float(i) - xk
            z = u * u
            out[i] = ((a0 + a1 * u) + a2 * z) + a3 * (z * u)
        j = stop


@njit(**_JIT)
def _spline_3pts(x, y, N, out):
    """PyEMD's ``cubic_spline_3pts`` evaluated on ``arange(N)``."""
    x0, x1, x2 = x[0], x[1], x[2]
    y0, y1, y2 = y[0], y[1], y[2]
    x1x0 = x1 - x0
    x2x1 = x2 - x1
    y1y0 = y1 - y0
    y2y1 = y2 - y1
    ix1x0 = 1.0 / x1x0
    ix2x1 = 1.0 / x2x1
    A = np.zeros((3, 3))
    A[0, 0] = 2 * ix1x0
    A[0, 1] = ix1x0
    A[1, 0] = ix1x0
    A[1, 1] = 2.0 * (ix1x0 + ix2x1)
    A[1, 2] = ix2x1
    A[2, 1] = ix2x1
    A[2, 2] = 2.0 * ix2x1
    v1 = 3 * y1y0 * ix1x0 * ix1x0
    v3 = 3 * y2y1 * ix2x1 * ix2x1
    v = np.array([v1, v1 + v3, v3])
    k = np.linalg.solve(A, v)
    a1 = k[0] * x1x0 - y1y0
    b1 = -k[1] * x1x0 + y1y0
    a2 = k[1] * x2x1 - y2y1
    b2 = -k[2] * x2x1 + y2y1
    for j in range(N):
        xv = float(j)
        if xv < x1:
            t1 = (xv - x0) / x1x0
            t11 = 1.0 - t1
            out[j] = t11 * y0 + t1 * y1 + t1 * t11 * (a1 * t11 + b1 * t1)
        else:
            t2 = (xv - x1) / x2x1
            t22 = 1.0 - t2
            out[j] = t22 * y1 + t2 * y2 + t2 * t22 * (a2 * t22 + b2 * t2)
    return STATUS_OK


@njit(**_JIT)
def _knots_usable(kt, n, N):
    """What PyEMD's ``spline_points`` needs of the knots, else STATUS_DEFER."""
    if n < 3:
        return False  # PyEMD fails to unpack its three-point spline
    for k in range(n - 1):
        if not kt[k + 1] > kt[k]:
            return False  # CubicSpline: x must be strictly increasing
    return kt[0] <= 0.0 and kt[n - 1] >= N - 1  # else no full envelope


@njit(**_JIT)
def _finite(kz, n):
    for k in range(n):
        if not np.isfinite(kz[k]):
            return False
    return True


@njit(**_JIT)
def _envelopes(ktu, kzu, nu, ktl, kzl, nl, N, upper, lower, wu, wl):
    """Upper and lower envelopes through their knots on ``arange(N)``, as
    PyEMD's ``spline_points`` with ``spline_kind="cubic"`` (``CubicSpline``
    from four knots, PyEMD's three-point spline for three). ``wu`` and ``wl``
    are (6, n) work arrays. Returns a status."""
    if not (_knots_usable(ktu, nu, N) and _knots_usable(ktl, nl, N)):
        return STATUS_DEFER
    # CubicSpline rejects non-finite values (PyEMD's three-point spline not)
    if (nu > 3 and not _finite(kzu, nu)) or (nl > 3 and not _finite(kzl, nl)):
        return STATUS_DEFER
    if nu > 3 and nl > 3:
        _not_a_knot_system(ktu, kzu, nu, wu[0], wu[1], wu[2], wu[3], wu[4], wu[5])
        _not_a_knot_system(ktl, kzl, nl, wl[0], wl[1], wl[2], wl[3], wl[4], wl[5])
        if not _gtsv_pair(
            nu, wu[2], wu[3], wu[4], wu[5], nl, wl[2], wl[3], wl[4], wl[5]
        ):
            return STATUS_DEFER
        _hermite_evaluate(ktu, kzu, nu, N, upper, wu[0], wu[1], wu[5], wu[2], wu[4])
        _hermite_evaluate(ktl, kzl, nl, N, lower, wl[0], wl[1], wl[5], wl[2], wl[4])
        return STATUS_OK
    if not _single_envelope(ktu, kzu, nu, N, upper, wu):
        return STATUS_DEFER
    if not _single_envelope(ktl, kzl, nl, N, lower, wl):
        return STATUS_DEFER
    return STATUS_OK


@njit(**_JIT)
def _single_envelope(kt, kz, n, N, out, w):
    if n == 3:
        _spline_3pts(kt, kz, N, out)
        return True
    _not_a_knot_system(kt, kz, n, w[0], w[1], w[2], w[3], w[4], w[5])
    ok = True
    for i in range(n - 2):
        ok &= _gtsv_eliminate(i, w[2], w[3], w[4], w[5], False)
    ok &= _gtsv_eliminate(n - 2, w[2], w[3], w[4], w[5], True)
    if not ok or w[3][n - 1] == 0.0:
        return False
    dl, dd, du, b = w[2], w[3], w[4], w[5]
    b[n - 1] = b[n - 1] / dd[n - 1]
    b[n - 2] = (b[n - 2] - du[n - 2] * b[n - 1]) / dd[n - 2]
    for i in range(n - 3, -1, -1):
        b[i] = (b[i] - du[i] * b[i + 1] - dl[i] * b[i + 2]) / dd[i]
    _hermite_evaluate(kt, kz, n, N, out, w[0], w[1], b, dl, du)
    return True


@njit(**_JIT)
def emd_kernel(
    S,
    max_imf,
    std_thr,
    svar_thr,
    energy_ratio_thr,
    total_power_thr,
    range_thr,
    nbsym,
    max_iteration,
    fixe,
    fixe_h,
):
    """``PyEMD.EMD(...).emd(S, max_imf=max_imf)`` for a float64 signal.

    Returns ``(imfs, status)``; ``imfs`` has PyEMD's rows (IMFs, then the
    residue unless it is all close to zero) when ``status == STATUS_OK``.
    """
    N = S.shape[0]
    if N < 3:
        return np.empty((0, N)), STATUS_DEFER
    # Memory: the output rows, six arrays of the signal's length and about
    # seven of half of it (indices of extrema of one kind, spline knots).
    cap = max_imf + 1 if max_imf > 0 else 12  # IMFs and the residue
    rows = np.empty((cap, N))
    acc = np.zeros(N)  # running sum of the IMFs, in row order as np.sum
    imf = np.empty(N)
    imf_old = np.empty(N)
    env_max = np.empty(N)
    env_min = np.empty(N)  # also scratch space outside the sifting
    d = np.empty(N)
    half = N // 2 + 2  # no more extrema (or plateaus) of one kind than this
    imax = np.empty(half, dtype=np.int64)
    imin = np.empty(half, dtype=np.int64)
    work_max = np.empty(half, dtype=np.int64)
    work_min = np.empty(half, dtype=np.int64)
    debs = np.empty(half, dtype=np.int64)
    fins = np.empty(half, dtype=np.int64)
    side = max(nbsym + 2, 4)
    lmax = np.empty(side, dtype=np.int64)
    lmin = np.empty(side, dtype=np.int64)
    rmax = np.empty(side, dtype=np.int64)
    rmin = np.empty(side, dtype=np.int64)
    n_knots = N // 2 + 2 * side + 2  # extrema of one kind, mirrored ends
    ktu = np.empty(n_knots)
    kzu = np.empty(n_knots)
    ktl = np.empty(n_knots)
    kzl = np.empty(n_knots)
    wu = np.empty((6, n_knots))
    wl = np.empty((6, n_knots))

    n_imfs = 0
    ext_no = -1
    n_max = n_min = n_zero = 0
    finished = False
    while not finished:
        for j in range(N):
            imf[j] = S[j] - acc[j]
        n = 0
        n_h = 0
        known = False  # imax/imin already hold the extrema of imf
        while True:
            n += 1
            if n >= max_iteration:
                break
            if not known:
                n_max, n_min, n_zero = _find_extrema(
                    imf, d, imax, imin, work_max, work_min, debs, fins
                )
            known = False
            ext_no = n_max + n_min
            if ext_no <= 2:  # a trend: the decomposition is finished
                finished = True
                break
            # envelopes of the current proto-IMF
            n_lmax, n_lmin, n_rmax, n_rmin, lsym, rsym, status = _mirror_points(
                imf, imax, n_max, imin, n_min, nbsym, lmax, lmin, rmax, rmin
            )
            if status != STATUS_OK:
                return rows[:0], status
            nk_max = _knots(
                imf, imax, n_max, lmax, n_lmax, lsym, rmax, n_rmax, rsym, ktu, kzu
            )
            nk_min = _knots(
                imf, imin, n_min, lmin, n_lmin, lsym, rmin, n_rmin, rsym, ktl, kzl
            )
            max_negative = False
            for k in range(nk_max):
                max_negative |= kzu[k] < 0.0
            min_positive = False
            for k in range(nk_min):
                min_positive |= kzl[k] > 0.0
            status = _envelopes(
                ktu, kzu, nk_max, ktl, kzl, nk_min, N, env_max, env_min, wu, wl
            )
            if status != STATUS_OK:
                return rows[:0], status
            # sift
            hi = imf[0]
            lo = imf[0]
            for j in range(N):
                value = imf[j]
                imf_old[j] = value
                # as Python's max() and min(), which PyEMD calls (NaN included)
                hi = value if value > hi else hi
                lo = value if value < lo else lo
                imf[j] = value - 0.5 * (env_max[j] + env_min[j])

            if fixe:
                if n >= fixe:
                    break
                continue
            n_max, n_min, n_zero = _find_extrema(
                imf, d, imax, imin, work_max, work_min, debs, fins
            )
            known = True  # the next iteration starts from these
            ext_no = n_max + n_min
            if fixe_h:
                if n == 1:
                    continue
                if abs(ext_no - n_zero) < 2:
                    n_h += 1
                else:
                    n_h = 0
                if n_h >= fixe_h:
                    break
                continue
            # EMD.check_imf (hi, lo: range of the proto-IMF before the sift)
            is_imf = False
            if not (max_negative or min_positive):
                new_sq, diff_sq, ratio_sq, old_sq = _check_sums(imf, imf_old)
                if not new_sq < 1e-10:
                    if diff_sq / (hi - lo) < svar_thr:
                        is_imf = True
                    elif ratio_sq < std_thr:
                        is_imf = True
                    elif diff_sq / old_sq < energy_ratio_thr:
                        is_imf = True
            if is_imf and abs(ext_no - n_zero) < 2:
                break

        # store the IMF
        if n_imfs == cap:
            cap *= 2
            grown = np.empty((cap, N))
            grown[:n_imfs] = rows[:n_imfs]
            rows = grown
        for j in range(N):
            rows[n_imfs, j] = imf[j]
            acc[j] = acc[j] + imf[j]
        n_imfs += 1

        # EMD.end_condition
        scratch = env_min
        hi = S[0] - acc[0]
        lo = hi
        for j in range(N):
            r = S[j] - acc[j]
            scratch[j] = abs(r)
            if r > hi:
                hi = r
            if r < lo:
                lo = r
        if hi - lo < range_thr or _pairwise_sum(scratch, 0, N) < total_power_thr:
            finished = True
        if n_imfs == max_imf:
            finished = True

    # the last sifting saw no more than two extrema: that row is a trend, and
    # the sum of the others is taken again, in row order
    if ext_no <= 2:
        n_imfs -= 1
        acc[:] = 0.0
        for k in range(n_imfs):
            for j in range(N):
                acc[j] = acc[j] + rows[k, j]
    residue = env_min
    keep_residue = False
    for j in range(N):
        r = S[j] - acc[j]
        residue[j] = r
        if not abs(r) <= 1e-8:  # np.allclose(residue, 0) fails
            keep_residue = True
    if not keep_residue:
        return rows[:n_imfs], STATUS_OK
    if n_imfs == cap:
        grown = np.empty((cap + 1, N))
        grown[:n_imfs] = rows[:n_imfs]
        rows = grown
    rows[n_imfs] = residue
    return rows[: n_imfs + 1], STATUS_OK
