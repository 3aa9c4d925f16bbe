"""Event display: the picture a physicist shows first (PNG + PDF, ROOT graphics in batch mode).

Four views of one event: side views x-z and y-z (K+ from GTK3 to the vertex, the mu+ bent by
MNP33 via ``nutag::track_position_at_z``, the tagged-neutrino line, LKr/MUV clusters and MUV3
hits at their planes) and front views of the LKr (octagon, clusters, predicted neutrino impact,
d_LKr and the signal-box radius) and of MUV3 (tile grid, tiles hit, quadrants, d_MUV3).

Why it reads events through the analysis' own graph (:func:`nutag.engine.graph.build_graph`, the
booking of ``nutag run``), not a copy of the selection: the display must show exactly the
vertex, neutrino line and associations the selection computed, and pick exactly the events a
region selects — the same column definitions, cut filters, compiled or fused route, and the
same blind-box veto in front of every node of blinded data. Detector positions come from
cpp/include/nutag/constants.hpp via ROOT.nutag. :func:`load_event` computes (the graph over
one entry), :func:`draw_event` draws; neither prints.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..config.blinding import BlindBox
from ..config.analysis import Sample, Selection
from ..core.errors import NutagError
from ..engine.graph import DataFrameFactory, SampleGraph, blind_veto, build_graph, default_dataframe
from ..core.rootenv import import_root

SCALARS = ["event_id", "gtk_x", "gtk_y", "gtk_px", "gtk_py", "gtk_pz", "mu_idx", "mu_lkr_idx",
           "nu_lkr_idx", "mu_muv3_idx", "nu_muv3_idx", "p_k", "p_mu", "m_miss2", "e_nu", "cda",
           "z_vtx_m", "d_lkr", "d_muv3", "phi_lkr_muv3", "e_lkr", "e_muv1", "e_muv2", "e_had",
           "y", "lkr_r", "trigger_nu"]
VECTORS = ["straw_x", "straw_y", "straw_px", "straw_py", "straw_pz", "straw_charge", "lkr_x",
           "lkr_y", "lkr_e", "lkr_time", "muv1_x", "muv1_y", "muv1_e", "muv2_x", "muv2_y",
           "muv2_e", "muv3_tile", "muv3_x", "muv3_y", "muv3_time"]
DERIVED = {"_ev_vx": "vtx.point.X()", "_ev_vy": "vtx.point.Y()", "_ev_vz": "vtx.point.Z()",
           "_ev_ndx": "nu.line.direction.X()", "_ev_ndy": "nu.line.direction.Y()",
           "_ev_ndz": "nu.line.direction.Z()", "_ev_entry": "rdfentry_"}
TRUTH = ["weight", "true_category", "true_e_nu", "true_int_z"]
CATEGORY = {0: "plain", 1: "#nu CC interaction (signal)", 2: "overlaid accidental activity",
            3: "mis-reconstruction"}


def save_canvas(canvas: Any, out_dir: Path, stem: str) -> list[Path]:
    """Save ``canvas`` as stem.png and stem.pdf atomically (temp file + os.replace)."""
    from ..core.rootenv import import_root as _root  # noqa: PLC0415

    _root().gErrorIgnoreLevel = _root().kWarning  # no "Info in <TCanvas::Print>" per file
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("png", "pdf"):
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{stem}.", suffix=f".{ext}")
        os.close(fd)
        try:
            canvas.SaveAs(tmp)
            os.replace(tmp, out_dir / f"{stem}.{ext}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        written.append(out_dir / f"{stem}.{ext}")
    return written


# --------------------------------------------------------------------------- reading
def _analysis_graph(sample: Sample, selection: Selection, blind_box: BlindBox | None,
                    make_df: DataFrameFactory | None = None) -> SampleGraph:
    """The graph ``nutag run`` books for ``sample`` (columns, cuts, regions; the blind-box veto
    first for data while ``blind_box`` is given), over ``make_df`` (default: the whole sample).

    Sequential: ``Range`` and ``rdfentry_`` as an entry number need a single-threaded loop.
    """
    from ..engine.cpp import load_cpp  # noqa: PLC0415

    ROOT = import_root()
    if ROOT.IsImplicitMTEnabled():
        ROOT.DisableImplicitMT()
    return build_graph(sample, selection, blinded=blind_box is not None, declare=load_cpp,
                       make_df=make_df, blind_box=blind_box)


def select_entries(sample: Sample, selection: Selection, region: str, max_n: int,
                   blind_box: BlindBox | None = None) -> list[int]:
    """Entry numbers of the first ``max_n`` events of ``sample`` passing ``region``'s cuts.

    Refuses a blind region of data; while blinded (``blind_box`` given), data events inside
    the box are removed before any cut, so no region, however written, draws them. The node
    is the region's own in the analysis graph, so the events are those ``nutag run`` counts;
    the loop also fills that graph's other booked results (it reads the whole sample).
    """
    if region not in selection.regions:
        raise NutagError(f"unknown region {region!r}; regions: {sorted(selection.regions)}")
    if sample.kind == "data" and selection.regions[region].blind:
        raise NutagError(f"region {region!r} is blind for data: display its events only after "
                         "unblinding, with `nutag display RESULTS_DIR` of an unblinded run")
    graph = _analysis_graph(sample, selection, blind_box)
    if region not in graph.regions:
        raise NutagError(f"region {region!r} is not booked for sample {sample.name!r} (its "
                         f"regions: {sorted(graph.regions)})")
    node = graph.regions[region].node.Define("_ev_entry", "rdfentry_").Range(0, max_n)
    return [int(e) for e in node.Take["ULong64_t"]("_ev_entry").GetValue()]


def _one_event(entry: int | None, event_id: int | None) -> tuple[DataFrameFactory, str]:
    """The dataframe factory of the single event asked for, and how to name it."""
    if entry is not None:
        return (lambda s: default_dataframe(s).Range(int(entry), int(entry) + 1),
                f"entry {entry}")
    if event_id is not None:
        return (lambda s: default_dataframe(s).Filter(f"event_id == {int(event_id)}ULL")
                .Range(0, 1), f"event_id {event_id}")
    raise NutagError("give an entry number or an event_id")


def load_event(sample: Sample, selection: Selection, *, entry: int | None = None,
               event_id: int | None = None, blind_box: BlindBox | None = None
               ) -> dict[str, Any]:
    """Everything the display needs of one event, as plain numbers and numpy arrays.

    ``blind_box`` (the analysis is blinded): a data event inside it is refused, not drawn.
    """
    make_df, what = _one_event(entry, event_id)
    graph = _analysis_graph(sample, selection, blind_box, make_df)
    source = graph.source  # the event after the blind-box veto when that applies
    if blind_veto(sample, blind_box is not None, blind_box) is not None:
        read, kept = graph.df.Count(), source.Count()  # one loop for both
        if kept.GetValue() < read.GetValue():
            raise NutagError(f"{what} of data sample {sample.name!r} lies inside the blind box "
                             f"({blind_box.cut}): it is not displayed while the analysis is "
                             "blinded; display it from the results directory of a "
                             "`nutag run --unblind`")
    node = source
    for name, expr in DERIVED.items():
        node = node.Define(name, expr)
    cols = SCALARS + VECTORS + list(DERIVED) + (TRUTH if sample.kind == "mc" else [])
    arrays = node.AsNumpy(cols)
    if len(arrays["event_id"]) == 0:
        raise NutagError(f"sample {sample.name!r} has no {what}; check the entry number "
                         "(0-based, below the number of entries)")
    ev: dict[str, Any] = {"sample": sample.name, "kind": sample.kind}
    for c in cols:
        v = arrays[c][0]
        ev[c] = np.asarray(list(v), dtype=float) if c in VECTORS else float(v)
    ev["entry"] = int(ev.pop("_ev_entry"))
    return ev


# --------------------------------------------------------------------------- geometry helpers
def _mu_path(ROOT: Any, ev: Mapping[str, Any], i: int, z_from: float, z_to: float,
             n: int = 80) -> list[tuple[float, float, float]]:
    """Points (x, y, z) of STRAW track i, through the MNP33 kick, from z_from to z_to."""
    line = ROOT.nutag.Line()
    line.origin = ROOT.Math.XYZPoint(ev["straw_x"][i], ev["straw_y"][i], ROOT.nutag.kZStraw1_mm)
    p = ROOT.Math.XYZVector(ev["straw_px"][i], ev["straw_py"][i], ev["straw_pz"][i])
    line.direction = p
    q = int(ev["straw_charge"][i])
    pts = []
    for k in range(n + 1):
        z = z_from + (z_to - z_from) * k / max(n, 1)
        try:
            pt = ROOT.nutag.track_position_at_z(line, p, q, z)
        except Exception:  # noqa: BLE001 - a track curling in the magnet ends there
            break
        pts.append((pt.X(), pt.Y(), z))
    return pts


def _nu_at(ev: Mapping[str, Any], z: float) -> tuple[float, float]:
    t = (z - ev["_ev_vz"]) / ev["_ev_ndz"] if ev["_ev_ndz"] else 0.0
    return ev["_ev_vx"] + t * ev["_ev_ndx"], ev["_ev_vy"] + t * ev["_ev_ndy"]


def _graph(ROOT: Any, xs: list[float], ys: list[float], color: int, width: int = 2,
           style: int = 1) -> Any:
    g = ROOT.TGraph(len(xs), np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    g.SetLineColor(color)
    g.SetLineWidth(width)
    g.SetLineStyle(style)
    return g


def _marker(ROOT: Any, x: float, y: float, style: int, color: int, size: float = 1.4) -> Any:
    m = ROOT.TMarker(x, y, style)
    m.SetMarkerColor(color)
    m.SetMarkerSize(size)
    return m


# --------------------------------------------------------------------------- views
def _side_view(ROOT: Any, ev: Mapping[str, Any], axis: int, keep: list[Any]) -> None:
    """x-z (axis 0) or y-z (axis 1) view; z in m, transverse in mm."""
    n = ROOT.nutag
    label = "xy"[axis]
    frame = ROOT.gPad.DrawFrame(100.0, -1500.0, 250.0, 1500.0,
                                f"side view {label}-z;z [m];{label} [mm]")
    keep.append(frame)
    grey = 920
    boxes = [(n.kZMagnetStart_mm, n.kZMagnetEnd_mm, 1000.0, "MNP33"),
             (n.kZRichStart_mm, n.kZRichEnd_mm, 1100.0, "RICH"),
             (n.kZLkrFront_mm, n.kZLkrFront_mm + n.kLkrDepth_mm, n.kLkrApothem_mm, "LKr"),
             (n.kZMuv1_mm, n.kZMuv1_mm + n.kMuv1Depth_mm, n.kMuvHalfSize_mm, ""),
             (n.kZMuv2_mm, n.kZMuv2_mm + n.kMuv2Depth_mm, n.kMuvHalfSize_mm, ""),
             (n.kZMuv3IronStart_mm, n.kZMuv3IronEnd_mm, 1320.0, "MUV")]
    for z1, z2, half, name in boxes:
        b = ROOT.TBox(z1 / 1e3, -half, z2 / 1e3, half)
        b.SetFillColorAlpha(grey, 0.5)
        b.Draw()
        keep.append(b)
        if name:
            t = ROOT.TLatex(z1 / 1e3, half + 60.0, name)
            t.SetTextSize(0.035)
            t.Draw()
            keep.append(t)
    for k in range(4):
        z = n.straw_z(k) / 1e3
        ln = ROOT.TLine(z, -n.kStrawOuterRadius_mm, z, n.kStrawOuterRadius_mm)
        ln.SetLineColor(grey + 2)
        ln.Draw()
        keep.append(ln)
    vz = ev["_ev_vz"]
    ok_vertex = 100e3 < vz < 250e3
    # K+ from GTK3 to the vertex
    if ok_vertex:
        zs = [n.kZGtk3_mm, vz]
        p = (ev["gtk_px"], ev["gtk_py"])[axis]
        x0 = (ev["gtk_x"], ev["gtk_y"])[axis]
        xs = [x0, x0 + p / ev["gtk_pz"] * (vz - n.kZGtk3_mm)]
        keep.append(_graph(ROOT, [z / 1e3 for z in zs], xs, 6))
        keep[-1].Draw("L")
    # STRAW tracks (the mu+ in blue), bent by MNP33
    for i in range(len(ev["straw_x"])):
        start = vz if (ok_vertex and i == int(ev["mu_idx"])) else n.kZStraw1_mm
        pts = _mu_path(ROOT, ev, i, start, n.kZMuv3_mm)
        if len(pts) > 1:
            g = _graph(ROOT, [p[2] / 1e3 for p in pts], [p[axis] for p in pts],
                       4 if i == int(ev["mu_idx"]) else 12)
            g.Draw("L")
            keep.append(g)
    # tagged-neutrino line
    if ok_vertex and ev["_ev_ndz"] > 0:
        zs = [vz, n.kZMuv3_mm]
        xs = [(_nu_at(ev, z))[axis] for z in zs]
        g = _graph(ROOT, [z / 1e3 for z in zs], xs, 2, 2, 2)
        g.Draw("L")
        keep.append(g)
        keep.append(_marker(ROOT, vz / 1e3, (ev["_ev_vx"], ev["_ev_vy"])[axis], 29, 1, 1.8))
        keep[-1].Draw()
        if ev.get("true_int_z", 0.0) > 0:
            zi = ev["true_int_z"]
            keep.append(_marker(ROOT, zi / 1e3, _nu_at(ev, zi)[axis], 5, 2, 1.8))
            keep[-1].Draw()
    # calorimeter clusters and MUV3 hits at their planes
    planes = [("lkr", n.kZLkrFront_mm, "nu_lkr_idx", "mu_lkr_idx"),
              ("muv1", n.kZMuv1_mm, None, None), ("muv2", n.kZMuv2_mm, None, None),
              ("muv3", n.kZMuv3_mm, "nu_muv3_idx", "mu_muv3_idx")]
    for det, z, nu_key, mu_key in planes:
        coord = ev[f"{det}_{label}"]
        for j, c in enumerate(coord):
            color = (2 if nu_key and j == int(ev[nu_key]) else
                     4 if mu_key and j == int(ev[mu_key]) else 1)
            keep.append(_marker(ROOT, z / 1e3, c, 20 if det != "muv3" else 21, color, 0.9))
            keep[-1].Draw()


def _front_lkr(ROOT: Any, ev: Mapping[str, Any], box_dlkr: float, keep: list[Any]) -> None:
    n = ROOT.nutag
    frame = ROOT.gPad.DrawFrame(-1400.0, -1400.0, 1400.0, 1400.0,
                                f"LKr front (z = {n.kZLkrFront_mm / 1e3:.3f} m);x [mm];y [mm]")
    keep.append(frame)
    r = n.kLkrApothem_mm / math.cos(math.pi / 8)
    angles = [math.pi / 8 + k * math.pi / 4 for k in range(9)]
    octagon = ROOT.TPolyLine(9, np.array([r * math.cos(a) for a in angles]),
                             np.array([r * math.sin(a) for a in angles]))
    octagon.SetLineWidth(2)
    octagon.Draw()
    hole = ROOT.TEllipse(0.0, 0.0, n.kLkrInnerRadius_mm)
    hole.SetFillStyle(0)
    hole.Draw()
    keep += [octagon, hole]
    for j in range(len(ev["lkr_x"])):
        x, y, e = ev["lkr_x"][j], ev["lkr_y"][j], ev["lkr_e"][j]
        color = 2 if j == int(ev["nu_lkr_idx"]) else 4 if j == int(ev["mu_lkr_idx"]) else 14
        el = ROOT.TEllipse(x, y, 12.0 * math.sqrt(max(e, 0.0)) + 8.0)
        el.SetFillColor(color)
        el.SetLineColor(color)
        el.Draw()
        t = ROOT.TLatex(x + 30.0, y + 30.0, f"{e:.1f} GeV")
        t.SetTextSize(0.03)
        t.SetTextColor(color)
        t.Draw()
        keep += [el, t]
    _impact(ROOT, ev, n.kZLkrFront_mm, "lkr", "nu_lkr_idx", "d_lkr", "d_{LKr}", box_dlkr, keep)


def _front_muv3(ROOT: Any, ev: Mapping[str, Any], keep: list[Any]) -> None:
    n = ROOT.nutag
    frame = ROOT.gPad.DrawFrame(-1400.0, -1400.0, 1400.0, 1400.0,
                                f"MUV3 tiles (z = {n.kZMuv3_mm / 1e3:.1f} m);x [mm];y [mm]")
    keep.append(frame)
    size, half = n.kMuv3TileSize_mm, n.kMuv3TileSize_mm * n.kMuv3TilesPerSide / 2

    def tile_box(t: int) -> tuple[float, float, float, float]:
        x, y = n.muv3_tile_x(t), n.muv3_tile_y(t)
        h = size / 4 if n.muv3_is_inner(t) else size / 2
        return x - size / 2, y - h, x + size / 2, y + h

    tiles: list[int] = []
    for t in range(152):
        try:
            x1, y1, x2, y2 = tile_box(t)
        except Exception:  # noqa: BLE001 - ids of the removed central cells
            continue
        tiles.append(t)
        b = ROOT.TBox(x1, y1, x2, y2)
        b.SetFillStyle(0)
        b.SetLineColor(17)
        b.Draw("l")
        keep.append(b)
    nu_j, mu_j = int(ev["nu_muv3_idx"]), int(ev["mu_muv3_idx"])
    order = sorted(range(len(ev["muv3_tile"])), key=lambda j: (j == mu_j) + 2 * (j == nu_j))
    for j in order:  # associated hits last, so an accidental on the same tile cannot hide them
        t = ev["muv3_tile"][j]
        if int(t) not in tiles:
            continue
        color = 2 if j == nu_j else 4 if j == mu_j else 5
        b = ROOT.TBox(*tile_box(int(t)))
        b.SetFillColor(color)
        b.Draw()
        t_ = ROOT.TLatex(ev["muv3_x"][j] - 90.0, ev["muv3_y"][j] - 30.0,
                         f"{ev['muv3_time'][j]:.1f} ns")
        t_.SetTextSize(0.025)
        t_.Draw()
        keep += [b, t_]
    for x1, y1, x2, y2 in ((-half, 0.0, half, 0.0), (0.0, -half, 0.0, half)):
        ln = ROOT.TLine(x1, y1, x2, y2)
        ln.SetLineStyle(3)
        ln.Draw()
        keep.append(ln)
    _impact(ROOT, ev, n.kZMuv3_mm, "muv3", "nu_muv3_idx", "d_muv3", "d_{MUV3}", None, keep)


def _impact(ROOT: Any, ev: Mapping[str, Any], z: float, det: str, idx_key: str, d_key: str,
            label: str, radius: float | None, keep: list[Any]) -> None:
    """Predicted neutrino impact (red open star), the mu+ extrapolation (blue), the distance."""
    if not (100e3 < ev["_ev_vz"] < 250e3 and ev["_ev_ndz"] > 0):
        return
    x, y = _nu_at(ev, z)
    keep.append(_marker(ROOT, x, y, 30, 2, 2.2))
    keep[-1].Draw()
    mu = int(ev["mu_idx"])
    if mu >= 0:
        pts = _mu_path(ROOT, ev, mu, z, z, 0)
        if pts:
            keep.append(_marker(ROOT, pts[0][0], pts[0][1], 28, 4, 2.0))
            keep[-1].Draw()
    if radius:
        c = ROOT.TEllipse(x, y, radius)
        c.SetFillStyle(0)
        c.SetLineColor(8)
        c.SetLineStyle(2)
        c.Draw()
        keep.append(c)
    j = int(ev[idx_key])
    if j >= 0:
        hx, hy = ev[f"{det}_x"][j], ev[f"{det}_y"][j]
        ln = ROOT.TLine(x, y, hx, hy)
        ln.SetLineColor(2)
        ln.SetLineWidth(2)
        ln.Draw()
        t = ROOT.TLatex(0.5 * (x + hx) + 40.0, 0.5 * (y + hy) - 80.0,
                        f"{label} = {ev[d_key]:.1f} mm")
        t.SetTextSize(0.035)
        t.SetTextColor(2)
        t.Draw()
        keep += [ln, t]


def _header(ev: Mapping[str, Any]) -> list[str]:
    cat = CATEGORY.get(int(ev.get("true_category", -1)), "") if ev["kind"] == "mc" else "data"
    return [f"{ev['sample']} entry {ev['entry']} (event_id {int(ev['event_id'])}) - {cat}",
            f"p_{{K}} = {ev['p_k']:.2f}, p_{{#mu}} = {ev['p_mu']:.2f} GeV/c, z_{{vtx}} = "
            f"{ev['z_vtx_m']:.1f} m, m^{{2}}_{{miss}} = {ev['m_miss2']:.5f} GeV^{{2}}/c^{{4}}, "
            f"E_{{#nu}} = {ev['e_nu']:.2f} GeV"
            + (f" (true {ev['true_e_nu']:.2f})" if ev["kind"] == "mc" else ""),
            f"E_{{LKr}} = {ev['e_lkr']:.2f}, E_{{MUV1}} = {ev['e_muv1']:.2f}, E_{{MUV2}} = "
            f"{ev['e_muv2']:.2f}, E_{{had}} = {ev['e_had']:.2f} GeV, y = {ev['y']:.2f}, "
            f"#varphi = {ev['phi_lkr_muv3']:.2f}, d_{{LKr}} = {ev['d_lkr']:.1f}, d_{{MUV3}} = "
            f"{ev['d_muv3']:.1f} mm"]


def draw_event(ev: Mapping[str, Any], out_dir: Path, stem: str | None = None,
               box_dlkr: float | None = 60.0) -> list[Path]:
    """Draw the four views of ``ev`` (from :func:`load_event`) into stem.png/.pdf."""
    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    ROOT.gErrorIgnoreLevel = ROOT.kWarning
    stem = stem or f"display_{ev['sample']}_{ev['entry']}"
    c = ROOT.TCanvas(f"c_{stem}", "", 1600, 1250)
    keep: list[Any] = []
    top = ROOT.TPad(f"{stem}_hdr", "", 0.0, 0.9, 1.0, 1.0)
    top.Draw()
    pads = [ROOT.TPad(f"{stem}_p{i}", "", (i % 2) * 0.5, 0.45 - (i // 2) * 0.45,
                      (i % 2) * 0.5 + 0.5, 0.9 - (i // 2) * 0.45) for i in range(4)]
    for p in pads:
        p.SetLeftMargin(0.12)
        p.Draw()
    keep += [top, *pads]
    top.cd()
    for k, line in enumerate(_header(ev)):
        t = ROOT.TLatex(0.01, 0.75 - 0.3 * k, line)
        t.SetTextSize(0.26 if k == 0 else 0.22)
        t.Draw()
        keep.append(t)
    pads[0].cd()
    _side_view(ROOT, ev, 0, keep)
    pads[1].cd()
    _side_view(ROOT, ev, 1, keep)
    pads[2].cd()
    pads[2].SetFixedAspectRatio()
    _front_lkr(ROOT, ev, box_dlkr or 0.0, keep)
    pads[3].cd()
    _front_muv3(ROOT, ev, keep)
    c.cd()
    return save_canvas(c, out_dir, stem)
