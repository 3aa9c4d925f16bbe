"""A tiny numpy "toy" of the nutag ntuple (samples/ntuple-schema.yaml) for pipeline tests.

Why a toy besides the real simulation: it is fast (seconds), has no C++ generator to compile,
and its events are built so that each stream lands where the analysis expects it (Kmu2 peak,
a hadronic cluster near the neutrino line for signal, accidental activity for overlay, shifted
m_miss2 for misreco). It tests the analysis plumbing, not the physics; physics numbers come from
nutag.simulate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

M_K, M_MU = 0.493677, 0.1056583755
Z_GTK3, Z_STRAW1, Z_MAG, Z_LKR, Z_MUV1, Z_MUV2, Z_MUV3 = (102400.0, 183508.0, 196995.0,
                                                          241093.0, 243418.0, 244435.0, 246800.0)
STREAM_BR = {"kmu2": 0.6356, "signal": 0.6356 * 1e-10, "overlay": 0.6356 * 1e-6,
             "misreco": 1e-7}


def _two_body(rng: np.random.Generator, n: int, p_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu+ lab 3-momentum of K+ -> mu+ nu for kaons along z (the beam slope is added after)."""
    p_star = (M_K**2 - M_MU**2) / (2 * M_K)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    e_star = np.hypot(p_star, M_MU)
    e_k = np.hypot(p_k, M_K)
    gamma, beta_gamma = e_k / M_K, p_k / M_K
    pz = gamma * p_star * cos_t + beta_gamma * e_star
    return np.stack([p_star * sin_t * np.cos(phi), p_star * sin_t * np.sin(phi), pz], 1), e_k


def _at_z(x0, y0, z0, p, z, charge=1):
    """Straight line (with the MNP33 kick of -0.27 GeV/c x charge downstream of z = Z_MAG)."""
    tx, ty = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
    if z <= Z_MAG:
        return x0 + tx * (z - z0), y0 + ty * (z - z0)
    xm, ym = x0 + tx * (Z_MAG - z0), y0 + ty * (Z_MAG - z0)
    px2 = p[:, 0] - 0.27 * charge
    pz2 = np.sqrt(p[:, 0] ** 2 + p[:, 2] ** 2 - px2**2)
    return xm + px2 / pz2 * (z - Z_MAG), ym + ty * (z - Z_MAG)


def _tile_centre(v: np.ndarray) -> np.ndarray:
    return (np.floor((np.clip(v, -1319, 1319) + 1320) / 220) + 0.5) * 220 - 1320


def _tile_id(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    col = np.floor((np.clip(x, -1319, 1319) + 1320) / 220).astype(np.int32)
    row = np.floor((np.clip(y, -1319, 1319) + 1320) / 220).astype(np.int32)
    return 12 * row + col


def generate(stream: str, n: int, seed: int, kind: str = "mc") -> dict[str, object]:
    """Columns of n toy events of one stream (awkward-compatible lists for RVec columns)."""
    rng = np.random.default_rng(seed)
    p_k = rng.normal(75.0, 0.75, n)
    z = rng.uniform(110000, 175000, n)
    gx, gy = rng.normal(0, 8, n), rng.normal(0, 4, n)
    kx, ky = gx + 1.2e-3 * (z - Z_GTK3), gy  # K+ position at the vertex
    pmu, _ = _two_body(rng, n, p_k)
    pmu[:, 0] += 1.2e-3 * pmu[:, 2]
    if stream == "misreco":  # a pion-like mis-measurement shifts m_miss2 by ~0.01 GeV^2
        pmu *= (1 + rng.choice([-1, 1], n) * rng.uniform(0.01, 0.04, n))[:, None]
    pmu_meas = pmu * (1 + rng.normal(0, 0.003, (n, 1)))
    sx, sy = _at_z(kx, ky, z, pmu, Z_STRAW1)
    lx, ly = _at_z(kx, ky, z, pmu, Z_LKR)
    m3x, m3y = _at_z(kx, ky, z, pmu, Z_MUV3)
    pnu = np.stack([75e-3 * 1.2 * np.ones(n) * 0 + p_k * 1.2e-3, np.zeros(n), p_k], 1) - pmu
    nlx, nly = kx + pnu[:, 0] / pnu[:, 2] * (Z_LKR - z), ky + pnu[:, 1] / pnu[:, 2] * (Z_LKR - z)
    cols: dict[str, list] = {k: [] for k in ("lkr_x", "lkr_y", "lkr_e", "lkr_time", "muv1_x",
                                              "muv1_y", "muv1_e", "muv2_x", "muv2_y", "muv2_e",
                                              "muv3_tile", "muv3_x", "muv3_y", "muv3_time")}
    trig_nu = np.zeros(n, bool)
    for i in range(n):
        lkr = [(lx[i], ly[i], 0.6, rng.normal(0, 0.5))]
        m1, m2 = [(lx[i], ly[i], 1.38)], [(lx[i], ly[i], 1.25)]
        muv3 = [(_tile_centre(m3x[i:i + 1])[0], _tile_centre(m3y[i:i + 1])[0], rng.normal(0, .45))]
        if stream in ("signal", "overlay", "misreco"):
            if stream == "overlay":  # accidental shower far or near, uniform in area
                r, t = 600 * np.sqrt(rng.uniform()), rng.uniform(-3, 3)
            else:
                r, t = abs(rng.normal(0, 25)), rng.normal(0, 0.5)
            ang = rng.uniform(0, 2 * np.pi)
            cx, cy = nlx[i] + r * np.cos(ang), nly[i] + r * np.sin(ang)
            e_nu = np.hypot(p_k[i], M_K) - np.linalg.norm(pmu[i])
            e_h = max(e_nu * rng.uniform(0.3, 0.8), 12.0)
            lkr.append((cx, cy, 0.5 * e_h, t))
            m1.append((cx, cy, 0.3 * e_h + 1.38))
            m2.append((cx, cy, 0.2 * e_h + 1.25))
            ox = -np.sign(muv3[0][0]) * rng.uniform(300, 1100)
            oy = -np.sign(muv3[0][1]) * rng.uniform(300, 1100)
            muv3.append((_tile_centre(np.array([ox]))[0], _tile_centre(np.array([oy]))[0],
                         rng.normal(0, 0.45) if stream != "overlay" else rng.uniform(-2, 2)))
            trig_nu[i] = True
        for key, vals in (("lkr", lkr), ("muv1", m1), ("muv2", m2)):
            cols[f"{key}_x"].append([v[0] for v in vals])
            cols[f"{key}_y"].append([v[1] for v in vals])
            cols[f"{key}_e"].append([v[2] for v in vals])
        cols["lkr_time"].append([v[3] for v in lkr])
        cols["muv3_x"].append([v[0] for v in muv3])
        cols["muv3_y"].append([v[1] for v in muv3])
        cols["muv3_time"].append([v[2] for v in muv3])
        cols["muv3_tile"].append(_tile_id(np.array([v[0] for v in muv3]),
                                          np.array([v[1] for v in muv3])).tolist())
    t_mu = rng.normal(0, 0.07, n)
    out: dict[str, object] = {
        "event_id": np.arange(n, dtype=np.uint64), "trigger_nu": trig_nu,
        "trigger_control": (rng.uniform(size=n) < (1e-2 if kind == "data" else 1.0))
        & (stream == "kmu2"), "trigger_time": np.zeros(n),
        "ktag_time": rng.normal(0, 0.07, n), "ktag_sectors": rng.integers(5, 9, n).astype(np.int32),
        "gtk_time": rng.normal(0, 0.1, n), "gtk_x": gx, "gtk_y": gy,
        "gtk_px": p_k * 1.2e-3, "gtk_py": np.zeros(n), "gtk_pz": p_k,
        "straw_n": np.ones(n, np.int32), "straw_charge": [[1]] * n,
        "straw_x": [[v] for v in sx], "straw_y": [[v] for v in sy],
        "straw_px": [[v] for v in pmu_meas[:, 0]], "straw_py": [[v] for v in pmu_meas[:, 1]],
        "straw_pz": [[v] for v in pmu_meas[:, 2]], "straw_chod_time": [[v] for v in t_mu],
        "straw_rich_time": [[v] for v in t_mu], "straw_rich_mass": [[0.1057]] * n,
        "chod_n": np.ones(n, np.int32),
        "lav_n_intime": np.zeros(n, np.int32), "sav_n_intime": np.zeros(n, np.int32), "lkr_n": np.array([len(v) for v in cols["lkr_e"]], np.int32),
        "muv3_n": np.array([len(v) for v in cols["muv3_x"]], np.int32), **cols}
    if kind == "mc":
        out.update(weight=np.full(n, STREAM_BR[stream]),
                   true_process=np.zeros(n, np.int32),
                   true_category=np.full(n, {"kmu2": 0, "signal": 1, "overlay": 2,
                                             "misreco": 3}[stream], np.int32),
                   true_decay_z=z, true_p_kaon=p_k, true_p_muon=np.linalg.norm(pmu, axis=1),
                   true_e_nu=np.zeros(n), true_nu_int=np.full(n, stream == "signal"),
                   true_int_z=np.zeros(n), true_y=np.zeros(n), true_x_bj=np.zeros(n))
    return out


def write_dataset(out: Path, n: int = 2000, seed: int = 7) -> Path:
    """Write kmu2/signal/overlay/misreco MC and a data mixture; returns samples.yaml."""
    import awkward as ak
    import uproot

    out.mkdir(parents=True, exist_ok=True)
    lines = ["samples:"]
    for i, s in enumerate(("kmu2", "signal", "overlay", "misreco")):
        cols = generate(s, n, seed + i)
        with uproot.recreate(out / f"{s}.root") as f:
            f["nutag"] = {k: ak.Array(v) for k, v in cols.items()}
        lines.append(f"  {s}: {{kind: mc, files: [{s}.root], weight: weight, "
                     f"meta: {{stream: {s}, n_generated: {n}}}}}")
    parts = {s: generate(s, n if s == "kmu2" else 3, seed + 10 + i, "data")
             for i, s in enumerate(("kmu2", "signal", "overlay", "misreco"))}
    merged = {k: ak.concatenate([ak.Array(p[k]) for p in parts.values()]) for k in parts["kmu2"]}
    merged["event_id"] = np.arange(len(merged["event_id"]), dtype=np.uint64)
    with uproot.recreate(out / "data.root") as f:
        f["nutag"] = merged
    lines.append("  data: {kind: data, files: [data.root], meta: {n_kaon_decays: 1.0e6, "
                 "control_downscaling: 100.0}}")
    (out / "samples.yaml").write_text("\n".join(lines) + "\n")
    return out / "samples.yaml"


def to_rntuple(directory: Path) -> None:
    """Rewrite every ``*.root`` toy file of ``directory`` as an RNTuple ``nutag`` (same columns,
    same entries, same order), the format `nutag simulate` writes. uproot writes the toys as
    TTree; RDataFrame converts them, so the reference yields can be checked on both formats."""
    from nutag.core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    for path in sorted(directory.glob("*.root")):
        opts = ROOT.RDF.RSnapshotOptions()
        opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
        opts.fCompressionAlgorithm = ROOT.RCompressionSetting.EAlgorithm.kZSTD
        opts.fCompressionLevel = 5
        tmp = path.with_name(f".{path.name}.rntuple")
        ROOT.RDataFrame("nutag", str(path)).Snapshot("nutag", str(tmp), "", opts)
        tmp.replace(path)


def write_chain_samples(directory: Path, n_generated: int) -> Path:
    """samples.yaml of ``directory`` with every sample the chain of its two toy files,
    ``a/<sample>.root`` then ``b/<sample>.root`` (written by :func:`write_dataset` into ``a``
    and ``b``): entries then map to files by the chain's entry offsets."""
    lines = ["samples:"]
    for s in ("kmu2", "signal", "overlay", "misreco"):
        lines.append(f"  {s}: {{kind: mc, files: [a/{s}.root, b/{s}.root], weight: weight, "
                     f"meta: {{stream: {s}, n_generated: {n_generated}}}}}")
    lines.append("  data: {kind: data, files: [a/data.root, b/data.root], "
                 "meta: {n_kaon_decays: 1.0e6, control_downscaling: 100.0}}")
    path = directory / "samples.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path
