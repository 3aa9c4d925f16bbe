"""One static page per run: results/<name>/index.html (and index.pdf when a browser is there).

Why a page: a run makes a dozen figures and several tables; a physicist reviewing it (or a
referee reading it on a laptop without nutag) needs them on one page, beside the published
numbers, with the provenance. The page is static — no server, no script from the network,
only relative links — so the directory can be copied, archived or mailed and still opens.
The PDF is printed from the same page by headless Chromium when one is installed; without
one it is skipped with a warning, never an error.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("nutag.outputs.html_report")

INDEX = "index.html"
PDF = "index.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: flags for a browser run as a batch tool: no sandbox (root in containers), no network chatter
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")
PDF_TIMEOUT_S = 120

CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;
color:#111;line-height:1.35}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #999;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:90%}
td,th{border:1px solid #bbb;padding:3px 7px;vertical-align:top}
th{background:#eee} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.blinded{background:#D55E00} .unblinded{background:#0072B2}
.figs{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;width:600px;break-inside:avoid} figure img{width:100%;border:1px solid #ddd}
figcaption{font-size:88%} code{font-size:90%} details{margin:.3em 0}
@media print{figure{width:48%} body{max-width:none}}
"""


# --------------------------------------------------------------------------- text
def num(x: Any, digits: int = 3) -> str:
    """A number as the Markdown tables write it: 3 significant digits, a dash when undefined."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    return "0" if x == 0 else f"{x:.{digits}g}"


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: Any, digits: int = 4) -> str:
    """4.987×10¹² for large numbers (N_K), the plain format otherwise."""
    if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or x == 0:
        return num(x, digits)
    exp = math.floor(math.log10(abs(x)))
    if abs(exp) < 4:
        return num(x, digits)
    return f"{x / 10 ** exp:.{digits - 1}f}×10{str(exp).translate(SUPERSCRIPT)}"


def _inline(text: str) -> str:
    """Escape, then the inline Markdown the reports use: `code`, **bold**, _italic_, links."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w/])_([^_]+)_(?![\w/])", r"<i>\1</i>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)


def _table(rows: list[str]) -> str:
    """A Markdown pipe table (header, alignment row, body) as HTML."""
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    align = ["num" if a.endswith(":") else "" for a in cells[1]] if len(cells) > 1 else []
    head = "".join(f"<th>{_inline(c)}</th>" for c in cells[0])
    body = []
    for r in cells[2:]:
        tds = "".join(f'<td class="{align[i] if i < len(align) else ""}">{_inline(c)}</td>'
                      for i, c in enumerate(r))
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def markdown_to_html(text: str, level_shift: int = 0) -> str:
    """The Markdown subset nutag writes (headings, pipe tables, lists, paragraphs) as HTML."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + level_shift, 6)
            out.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif line.lstrip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.append(_table(block))
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            continue
        elif line.strip():
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "|", "- ")):
                para.append(lines[i])
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            continue
        i += 1
    return "\n".join(out)


def sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, body) of every "## " section; the text before the first one has heading ""."""
    parts: list[tuple[str, str]] = []
    head, body = "", []
    for line in markdown.splitlines():
        if line.startswith("## "):
            parts.append((head, "\n".join(body)))
            head, body = line[3:].strip(), []
        else:
            body.append(line)
    parts.append((head, "\n".join(body)))
    return parts


# --------------------------------------------------------------------------- result table
def _cell(key: str, value: Any, text: str | None = None) -> str:
    """A nutag number with its summary.json key and exact value (the page can be checked)."""
    exact = "" if value is None else f' data-value="{html.escape(repr(value))}"'
    return (f'<td class="num" data-key="{html.escape(key)}"{exact}>'
            f"{html.escape(text if text is not None else num(value))}</td>")


def _bkg_text(b: Mapping[str, Any]) -> str:
    if b.get("value") is None:
        return "not measurable"
    return (f"{num(b['value'])} +{num(b.get('stat_up'))} −{num(b.get('stat_down'))} (stat) "
            f"± {num(b.get('syst'))} (syst)")


def _pub_bkg(p: Mapping[str, Any] | None) -> str:
    return "—" if not p else f"{p['value']} +{p['stat_up']} −{p['stat_down']} ± {p['syst']}"


def result_rows(summary: Mapping[str, Any], pub: Mapping[str, Any]) -> list[str]:
    """Rows of the result table: quantity, nutag (keyed to summary.json), published."""
    s, rows = summary, []

    def row(label: str, cell: str, published: Any) -> None:
        rows.append(f"<tr><td>{html.escape(label)}</td>{cell}"
                    f'<td class="num">{html.escape(str(published))}</td></tr>')

    nk = s.get("normalisation") or {}
    row("K+ decays in the fiducial volume, N_K", _cell(
        "n_kaon_decays", s.get("n_kaon_decays"),
        f"{sci(s.get('n_kaon_decays'))} ± {sci(nk.get('stat'), 2)} (stat)"),
        sci(pub.get("n_kaon_decays"), 2))
    sig, psig = s.get("n_sig") or {}, pub.get("n_sig") or {}
    row("expected signal, N_sig", _cell(
        "n_sig.value", sig.get("value"),
        f"{num(sig.get('value'))} ± {num(sig.get('stat'))} (stat) ± {num(sig.get('syst'))} (syst)"),
        f"{psig.get('value')} ± {psig.get('stat')} ± {psig.get('syst')}")
    for key, b in (s.get("backgrounds") or {}).items():
        row(f"background: {b.get('label', key)}", _cell(f"backgrounds.{key}.value",
                                                        b.get("value"), _bkg_text(b)),
            _pub_bkg((pub.get("backgrounds") or {}).get(key)))
    total = s.get("background_total") or {}
    row("total background", _cell("background_total.value", total.get("value"),
                                  _bkg_text(total)), "—")
    row("S/B (data-driven b)", _cell("s_over_b", s.get("s_over_b"), num(s.get("s_over_b"), 2)),
        f"about {pub.get('s_over_b')}")
    if s.get("s_over_b_mc_expected") is not None:
        row("S/B (MC-expected b)", _cell("s_over_b_mc_expected", s["s_over_b_mc_expected"],
                                         num(s["s_over_b_mc_expected"], 2)),
            f"about {pub.get('s_over_b')}")
    blinded = bool(s.get("blinded"))
    row("observed in the signal region", _cell("observed", s.get("observed"),
                                               "blinded" if blinded else str(s.get("observed"))),
        pub.get("observed"))
    for key, pkey, label in (("p_exactly_observed_sb", "p_exactly_observed_sb",
                              "P(exactly n_obs | s+b)"),
                             ("p_exactly_observed_b", "p_exactly_observed_b",
                              "P(exactly n_obs | b)")):
        row(label, _cell(key, s.get(key), "blinded" if blinded else num(s.get(key))),
            pub.get(pkey, "—"))
    return rows


def result_table(summary: Mapping[str, Any], pub: Mapping[str, Any]) -> str:
    """The result beside the published numbers (PLB 863 (2025) 139345)."""
    return ('<table id="result"><thead><tr><th>quantity</th><th>nutag</th>'
            '<th>published</th></tr></thead><tbody>' + "".join(result_rows(summary, pub)) +
            "</tbody></table>")


# --------------------------------------------------------------------------- figures
CAPTIONS = {
    "plane": "The (m²_miss, d_LKr) plane: expected events of all simulated samples (colour), "
             "pseudo-data (markers), the signal box and the side-bands, and the published "
             "candidate (star).",
    "plane_zoom": "The same plane around the signal box (hatched while blinded), where the "
                  "expected signal and the published candidate sit.",
    "projection_m_miss2": "m²_miss projection of the plane: stacked simulation with its "
                          "statistical uncertainty, data with Poisson (Garwood) errors, "
                          "data/MC below.",
    "projection_d_lkr": "d_LKr projection of the plane: stacked simulation with its "
                        "statistical uncertainty, data with Poisson (Garwood) errors, data/MC "
                        "below.",
    "e_nu_selected": "Neutrino energy of the events in the signal region (expected from "
                     "simulation; data once unblinded).",
}


def caption(name: str) -> str:
    """What a figure shows, in words, from its file name."""
    if name in CAPTIONS:
        return CAPTIONS[name]
    if name.endswith("_log") and name[:-4] in CAPTIONS:
        return CAPTIONS[name[:-4]] + " Logarithmic scale."
    if name.startswith("plane_"):
        return f"The (m²_miss, d_LKr) plane of the sample {name[6:]} with the region boxes."
    if name.startswith("cutflow_"):
        return (f"Cutflow of the sample {name[8:]}: expected (MC) or observed (data) events "
                "after each cut, logarithmic scale.")
    return name.replace("_", " ")


#: figure order on the page: the paper's figure first, per-sample planes last
ORDER = ("plane", "plane_zoom", "projection_m_miss2", "projection_m_miss2_log",
         "projection_d_lkr", "projection_d_lkr_log", "e_nu_selected", "cutflow_", "plane_")


def figure_rank(png: Path) -> tuple[int, str]:
    """Sort key of a figure: its place in ORDER (exact name, else prefix), then its name."""
    for i, key in enumerate(ORDER):
        if png.stem == key or (key.endswith("_") and png.stem.startswith(key)):
            return i, png.stem
    return len(ORDER), png.stem


def figures_html(out: Path, pngs: Iterable[Path]) -> str:
    """Each PNG with its caption and a link to its PDF, by relative path."""
    items = []
    for png in pngs:
        rel = os.path.relpath(png, out).replace(os.sep, "/")
        pdf = png.with_suffix(".pdf")
        link = (f' <a href="{html.escape(os.path.relpath(pdf, out).replace(os.sep, "/"))}">'
                "PDF</a>" if pdf.is_file() else "")
        items.append(f'<figure id="fig-{html.escape(png.stem)}"><img src="{html.escape(rel)}" '
                     f'alt="{html.escape(png.stem)}"><figcaption><b>{html.escape(png.stem)}</b>'
                     f": {html.escape(caption(png.stem))}{link}</figcaption></figure>")
    return '<div class="figs">' + "\n".join(items) + "</div>"


# --------------------------------------------------------------------------- the page
def _preface_notes(preface: str) -> str:
    """Warnings and notes under summary.md's main table (the table itself is the result table)."""
    keep = [ln for ln in preface.splitlines()
            if not ln.startswith("#") and not ln.lstrip().startswith("|")]
    return markdown_to_html("\n".join(keep))


def cutflows_html(cutflow_md: str, open_tables: set[str]) -> str:
    """Every cutflow table folded under its sample and region; the figures' ones unfolded."""
    parts = []
    for head, body in sections(cutflow_md):
        if not head:
            parts.append(_preface_notes(body))
        elif head != "Provenance":
            state = " open" if head in open_tables else ""
            parts.append(f"<details{state}><summary>{html.escape(head)}</summary>"
                         f"{markdown_to_html(body)}</details>")
    return "\n".join(parts)


def page(summary: Mapping[str, Any], pub: Mapping[str, Any], *, figures: str, summary_md: str,
         cutflow_md: str, open_tables: set[str]) -> str:
    """The whole index.html as text."""
    prov = summary.get("provenance") or {}
    blinded = bool(summary.get("blinded"))
    name = html.escape(str(prov.get("analysis") or "nutag run"))
    badge = ('<span class="badge blinded">BLINDED</span>' if blinded
             else '<span class="badge unblinded">UNBLINDED</span>')
    parts = sections(summary_md)
    details = "\n".join(f"<h3>{_inline(h)}</h3>\n{markdown_to_html(b)}" for h, b in parts
                        if h and h != "Provenance")
    provenance = "\n".join(markdown_to_html(b) for h, b in parts if h == "Provenance")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nutag — {name}</title><style>{CSS}</style></head>
<body>
<h1>nutag — {name} {badge}</h1>
<p>NA62 neutrino tagging (PLB 863 (2025) 139345) on simulation: N_K =
{html.escape(sci(summary.get('n_kaon_decays')))} K<sup>+</sup> decays; created
{html.escape(str(prov.get('created_utc', '—')))}, git <code>{html.escape(str(prov.get('git_commit')))}</code>.
Files: <a href="summary.md">summary.md</a>, <a href="summary.json">summary.json</a>,
<a href="cutflows.md">cutflows.md</a>, <a href="histograms.root">histograms.root</a>,
<a href="{PDF}">this page as PDF</a>.</p>
<h2 id="results">Result beside the published numbers</h2>
{result_table(summary, pub)}
{_preface_notes(parts[0][1])}
<h2 id="figures">Figures</h2>
{figures}
<h2 id="details">Systematics, backgrounds and side-bands</h2>
{details}
<h2 id="cutflows">Cutflows</h2>
{cutflows_html(cutflow_md, open_tables)}
<h2 id="provenance">Provenance</h2>
{provenance}
</body></html>
"""


# --------------------------------------------------------------------------- PDF
def find_browser() -> str | None:
    """A headless-capable Chromium (``NUTAG_CHROMIUM`` first), or None."""
    for cand in (os.environ.get("NUTAG_CHROMIUM"), *BROWSERS):
        path = shutil.which(cand) if cand else None
        if path:
            return path
    return None


def run_browser(args: list[str], timeout: float = PDF_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throw-away profile; on timeout its process group is ended."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no chromium")
    with tempfile.TemporaryDirectory(prefix="nutag-chromium-") as profile:
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def print_pdf(index: Path, pdf: Path) -> Path | None:
    """index.html printed to PDF, or None with a warning (no browser, failure, NUTAG_PDF=off)."""
    if os.environ.get("NUTAG_PDF", "").lower() in ("off", "0", "no"):
        return None
    if find_browser() is None:
        log.warning("no chromium found: %s not written (install chromium for the PDF of the "
                    "report page; the page itself is complete)", pdf.name)
        return None
    try:
        proc = run_browser(["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                            index.resolve().as_uri()])
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s not written: chromium failed (%s)", pdf.name, exc)
        return None
    if proc.returncode != 0 or not pdf.is_file():
        log.warning("%s not written: chromium exited with %s: %s", pdf.name, proc.returncode,
                    proc.stderr.strip()[-300:])
        return None
    return pdf


def write_page(out: Path, summary: Mapping[str, Any], pub: Mapping[str, Any],
               pngs: Iterable[Path], *, open_tables: set[str] | None = None,
               pdf: bool = True) -> Path:
    """Write index.html (and index.pdf) into the results directory ``out``; returns the page.

    Reads summary.md and cutflows.md from ``out``, so it runs after they are written."""
    from ..core.atomic import atomic_write  # noqa: PLC0415

    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    cutflow_md = (out / "cutflows.md").read_text(encoding="utf-8")
    text = page(summary, pub, figures=figures_html(out, pngs), summary_md=summary_md,
                cutflow_md=cutflow_md, open_tables=open_tables or set())
    index = atomic_write(out / INDEX, text, mode=0o644)
    if pdf:
        print_pdf(index, out / PDF)
    return index


def write_run_page(out: Path, summary: Mapping[str, Any], pub: Mapping[str, Any],
                   written: Iterable[Path], doc: Mapping[str, Any],
                   options: Mapping[str, Any]) -> Path:
    """The page of a run from what the report wrote: its figures (PNGs, in the order drawn) and
    the cutflow tables the cutflow figures show, unfolded."""
    from .plot_cutflow import cutflow_region  # noqa: PLC0415

    pngs = sorted((p for p in written if p.suffix == ".png"), key=figure_rank)
    opened = set()
    for sample, info in (doc.get("cutflows") or {}).items():
        region = None if sample.startswith("_") else cutflow_region(sample, info, options)
        if region:
            opened.add(f"{sample} ({info['kind']}) — {region}")
    return write_page(out, summary, pub, pngs, open_tables=opened)
