"""The uproot + numpy (awkward) implementation of the benchmark's work (benchmarks/kmu2_norm.yaml).

Columnar: the input is read in chunks of entries, every cut is a boolean mask over the chunk and
the surviving events are compressed before the next cut, so later (more expensive) columns are
computed only for the events that reach them, as the event loops do. The nutag:: helpers are
re-implemented with the same floating-point operations in the same order, so the yields agree
with the C++ to the event (tests/test_benchmarks.py checks it).

Run as ``python -m benchmarks.uproot_numpy FILE [--step N] [--json OUT] [--hist OUT.npz]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .peak_rss import peak_rss_kb

T_START = time.perf_counter()

import awkward as ak  # noqa: E402
import numpy as np  # noqa: E402
import uproot  # noqa: E402

T_IMPORTED = time.perf_counter()

# cpp/include/nutag/constants.hpp
M_K, M_MU = 0.493677, 0.1056583755
Z_GTK3, Z_STRAW1, Z_MAGNET = 102400.0, 183508.0, 196995.0
Z_LKR, Z_MUV3 = 241093.0, 246800.0
KICK = 0.270            # kMagnetPtKick, kMagnetKickSign = -1
LKR_APOTHEM, LKR_RIN = 1130.0, 150.0
SQRT2 = 1.41421356237309504880
MUV3_HALF, MUV3_RIN = 1320.0, 103.0
NOWHERE = 1e9

COLUMNS = ["trigger_control", "ktag_sectors", "ktag_time", "gtk_time", "gtk_x", "gtk_y",
           "gtk_px", "gtk_py", "gtk_pz", "straw_n", "straw_charge", "straw_x", "straw_y",
           "straw_px", "straw_py", "straw_pz", "straw_chod_time", "straw_rich_time",
           "straw_rich_mass", "lkr_x", "lkr_y", "lkr_e", "lkr_time", "muv3_x", "muv3_y",
           "muv3_time"]
CUTS = ["(all)", "trig_control", "ktag_kaon", "gtk_momentum", "single_track", "track_momentum",
        "mu_acceptance", "cda", "fiducial", "muon_muv3", "muon_lkr", "muon_rich",
        "timing_ktag_gtk", "timing_gtk_mu", "timing_chod", "kmu2_peak"]
HISTOS = {"m_miss2": (160, -0.04, 0.04), "e_nu": (72, 0.0, 72.0), "p_k": (60, 72.0, 78.0),
          "p_mu": (75, 0.0, 75.0), "z_vtx_m": (80, 100.0, 180.0), "cda": (50, 0.0, 10.0)}


def _np(a: Any) -> np.ndarray:
    return ak.to_numpy(a)


def track_at_z(x, y, px, py, pz, z):
    """nutag::track_at_z for a positive track and z downstream of MNP33 (thin-lens kick)."""
    px_new = px + (-1.0 * 1) * KICK
    pxz2 = px * px + pz * pz
    pz2_new = pxz2 - px_new * px_new
    ok = (pz > 0.0) & (pz2_new > 0.0)
    t = (Z_MAGNET - Z_STRAW1) / pz                   # upstream line to the magnet centre
    xm, ym = x + t * px, y + t * py
    with np.errstate(invalid="ignore"):
        pz_new = np.sqrt(pz2_new)
    t2 = (z - Z_MAGNET) / pz_new
    return np.where(ok, xm + t2 * px_new, NOWHERE), np.where(ok, ym + t2 * py, NOWHERE)


def in_lkr_acceptance(x, y):
    ax, ay = np.abs(x), np.abs(y)
    return ((ax < LKR_APOTHEM) & (ay < LKR_APOTHEM) & (ax + ay < LKR_APOTHEM * SQRT2)
            & (x * x + y * y > LKR_RIN * LKR_RIN))


def on_muv3_tile(x, y):
    return (np.abs(x) < MUV3_HALF) & (np.abs(y) < MUV3_HALF) & ~(x * x + y * y < MUV3_RIN ** 2)


def closest_approach(o1, d1, o2, d2):
    """nutag::closest_approach of two lines (origin, direction as (x, y, z) tuples)."""
    (ax, ay, az), (bx, by, bz) = d1, d2
    aa = ax * ax + ay * ay + az * az
    cc = bx * bx + by * by + bz * bz
    wx, wy, wz = o1[0] - o2[0], o1[1] - o2[1], o1[2] - o2[2]
    bb = ax * bx + ay * by + az * bz
    dd = ax * wx + ay * wy + az * wz
    ee = bx * wx + by * wy + bz * wz
    cx, cy, cz = ay * bz - by * az, az * bx - bz * ax, ax * by - bx * ay
    denom = cx * cx + cy * cy + cz * cz
    parallel = denom <= 1e-16 * aa * cc
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(parallel, 0.0, (bb * ee - cc * dd) / denom)
        s2 = np.where(parallel, ee / cc, (aa * ee - bb * dd) / denom)
    p1 = (o1[0] + s1 * ax, o1[1] + s1 * ay, o1[2] + s1 * az)
    p2 = (o2[0] + s2 * bx, o2[1] + s2 * by, o2[2] + s2 * bz)
    dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
    cda = np.sqrt(dx * dx + dy * dy + dz * dz)
    return cda, 0.5 * (p1[2] + p2[2])


def process(ev: Any, flow: np.ndarray, hist: dict[str, np.ndarray]) -> None:
    """Apply the selection to one chunk, adding to the cutflow counts and the histograms."""
    flow[0] += len(ev)

    def step(i: int, mask: np.ndarray, *arrays: Any) -> list[Any]:
        flow[i] += int(np.count_nonzero(mask))
        return [a[mask] for a in arrays]

    (ev,) = step(1, _np(ev.trigger_control), ev)
    (ev,) = step(2, _np(ev.ktag_sectors) >= 5, ev)
    kx, ky, kz = _np(ev.gtk_px), _np(ev.gtk_py), _np(ev.gtk_pz)
    p_k = np.sqrt(kx * kx + ky * ky + kz * kz)
    ev, kx, ky, kz, p_k = step(3, (p_k > 72.0) & (p_k < 78.0), ev, kx, ky, kz, p_k)
    pos = ev.straw_charge > 0
    single = _np(ev.straw_n == 1) & _np(ak.sum(pos, axis=1) == 1)
    ev, kx, ky, kz, p_k, pos = step(4, single, ev, kx, ky, kz, p_k, pos)

    def mu(col: str) -> np.ndarray:  # the element of the only positive track
        return _np(ak.firsts(ev[col][pos]))

    px, py, pz = mu("straw_px"), mu("straw_py"), mu("straw_pz")
    p_mu = np.sqrt(px * px + py * py + pz * pz)
    m = (p_mu > 5.0) & (p_mu < 70.0)
    ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu = step(5, m, ev, pos, kx, ky, kz, p_k, px, py,
                                                      pz, p_mu)
    x, y = mu("straw_x"), mu("straw_y")
    lkr_x0, lkr_y0 = track_at_z(x, y, px, py, pz, Z_LKR)
    muv3_x0, muv3_y0 = track_at_z(x, y, px, py, pz, Z_MUV3)
    m = in_lkr_acceptance(lkr_x0, lkr_y0) & on_muv3_tile(muv3_x0, muv3_y0)
    (ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, x, y, lkr_x0, lkr_y0, muv3_x0,
     muv3_y0) = step(6, m, ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, x, y, lkr_x0, lkr_y0,
                     muv3_x0, muv3_y0)
    gx, gy = _np(ev.gtk_x), _np(ev.gtk_y)
    cda, z_vtx = closest_approach((gx, gy, np.full_like(gx, Z_GTK3)), (kx, ky, kz),
                                  (x, y, np.full_like(x, Z_STRAW1)), (px, py, pz))
    rest = [ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, lkr_x0, lkr_y0, muv3_x0, muv3_y0, cda,
            z_vtx]
    rest = step(7, cda < 5.0, *rest)
    z_vtx = rest[-1]
    rest = step(8, (z_vtx > 110000.0) & (z_vtx < 175000.0), *rest)
    ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, lkr_x0, lkr_y0, muv3_x0, muv3_y0, cda, z_vtx = rest
    t_chod, t_rich = mu("straw_chod_time"), mu("straw_rich_time")
    t_mu = np.where(t_rich > -900.0, t_rich, t_chod)
    # nutag::muv3_muon_hit >= 0: an in-time hit within the search square around the track
    half = np.where(p_mu > 0.0, 110.0 + (3.0 * 530.0) / p_mu, 110.0)
    dx, dy = ev.muv3_x - muv3_x0, ev.muv3_y - muv3_y0
    hit = (abs(ev.muv3_time - t_mu) < 2.0) & (abs(dx) <= half) & (abs(dy) <= half)
    rest = [ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, lkr_x0, lkr_y0, cda, z_vtx, t_chod, t_mu]
    rest = step(9, _np(ak.any(hit, axis=1)), *rest)
    ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, lkr_x0, lkr_y0, cda, z_vtx, t_chod, t_mu = rest
    # nutag::nearest_in_time: nearest in-time LKr cluster within 50 mm (first on ties)
    d = np.hypot(ev.lkr_x - lkr_x0, ev.lkr_y - lkr_y0)
    d = ak.where(abs(ev.lkr_time - t_mu) < 3.0, d, np.inf)
    j = ak.argmin(d, axis=1, keepdims=True)
    d_min = _np(ak.fill_none(ak.firsts(d[j]), np.inf))
    e_mu = _np(ak.fill_none(ak.firsts(ev.lkr_e[j]), 0.0))
    e_over_p = np.where(d_min < 50.0, e_mu, 0.0) / p_mu
    rest = [ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, cda, z_vtx, t_chod, t_mu]
    rest = step(10, e_over_p < 0.2, *rest)
    ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, cda, z_vtx, t_chod, t_mu = rest
    rich_mass = mu("straw_rich_mass")
    rest = step(11, (p_mu < 15.0) | ((rich_mass > 0.0) & (rich_mass < 0.125)), *rest)
    ev, pos, kx, ky, kz, p_k, px, py, pz, p_mu, cda, z_vtx, t_chod, t_mu = rest
    ktag_t, gtk_t = _np(ev.ktag_time), _np(ev.gtk_time)
    rest = step(12, np.abs(ktag_t - gtk_t) < 0.5, *rest[1:], gtk_t)
    gtk_t, t_mu, t_chod = rest[-1], rest[-2], rest[-3]
    rest = step(13, np.abs(gtk_t - t_mu) < 1.0, *rest)
    gtk_t, t_mu, t_chod = rest[-1], rest[-2], rest[-3]
    rest = step(14, np.abs(t_chod - t_mu) < 3.0, *rest)
    pos, kx, ky, kz, p_k, px, py, pz, p_mu, cda, z_vtx = rest[:11]
    # histograms: m_miss2 and E_nu from the K+ and mu+ four-vectors (nutag::missing_mass2)
    e_k = np.sqrt((kx * kx + ky * ky + kz * kz) + M_K * M_K)
    e_m = np.sqrt((px * px + py * py + pz * pz) + M_MU * M_MU)
    de, dpx, dpy, dpz = e_k - e_m, kx - px, ky - py, kz - pz
    m_miss2 = de * de - dpx * dpx - dpy * dpy - dpz * dpz
    m_miss2, de, p_k, p_mu, z_vtx, cda = step(15, np.abs(m_miss2) < 0.006, m_miss2, de, p_k,
                                              p_mu, z_vtx, cda)
    values = {"m_miss2": m_miss2, "e_nu": de, "p_k": p_k, "p_mu": p_mu,
              "z_vtx_m": z_vtx / 1000.0, "cda": cda}
    for name, (n, lo, hi) in HISTOS.items():
        hist[name] += np.histogram(values[name], bins=n, range=(lo, hi))[0]


def run(path: str, step_size: int = 1_000_000, entry_stop: int | None = None
        ) -> dict[str, Any]:
    flow = np.zeros(len(CUTS), dtype=np.int64)
    hist = {k: np.zeros(v[0], dtype=np.int64) for k, v in HISTOS.items()}
    t0 = time.perf_counter()
    t_read = 0.0
    tr = time.perf_counter()
    for chunk in uproot.iterate(f"{path}:nutag", COLUMNS, step_size=step_size,
                                entry_stop=entry_stop, library="ak"):
        t_read += time.perf_counter() - tr
        process(chunk, flow, hist)
        tr = time.perf_counter()
    loop = time.perf_counter() - t0
    return {"cutflow": [[c, int(n), float(n), float(n)] for c, n in zip(CUTS, flow)],
            "hist": {k: v.tolist() for k, v in hist.items()}, "loop_s": loop,
            "read_s": t_read, "entries": int(flow[0])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--step", type=int, default=1_000_000, help="entries per chunk")
    ap.add_argument("--entry-stop", type=int, default=None)
    ap.add_argument("--json", help="write the result here (default: stdout)")
    args = ap.parse_args(argv)
    out = run(args.file, args.step, args.entry_stop)
    out["import_s"] = T_IMPORTED - T_START
    out["maxrss_kb"] = peak_rss_kb()
    text = json.dumps(out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
