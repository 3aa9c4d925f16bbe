"""results/<name>/index.html: one static page per run, checked in a real browser.

Headless Chromium opens the page as a reader would (file://, no server, no network): every
figure must load, the result table must hold the numbers of summary.json, and a screenshot is
kept as a test artefact. Without Chromium the browser tests skip loudly; the checks that need
no browser still run.
"""

from __future__ import annotations

import json
import math
import re
import os
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import _robust_toy as rt
import pytest

CHECK_SCRIPT = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images).map(
      (i) => [i.getAttribute("src"), i.complete && i.naturalWidth > 0, i.naturalWidth]);
  document.body.setAttribute("data-image-check", JSON.stringify(imgs));
});
</script>"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete blinded toy run, copied so each module owns its directory."""
    _, out = rt.good_run(tmp_path_factory.getbasetemp())
    copy = tmp_path_factory.mktemp("html") / "results"
    shutil.copytree(out, copy)
    from nutag.outputs import report

    pdf = os.environ.pop("NUTAG_PDF", None)  # the suite prints no PDF (tests/conftest.py)
    try:
        report.report_from_dir(copy)  # the page and its PDF, as `nutag report` writes them
    finally:
        if pdf is not None:
            os.environ["NUTAG_PDF"] = pdf
    return copy


@pytest.fixture(scope="module")
def browser() -> str:
    from nutag.outputs.html_report import find_browser

    path = find_browser()
    if path is None:
        msg = ("CHROMIUM NOT INSTALLED: index.html is NOT checked in a browser "
               "(install the Debian package `chromium`; `make test` tries to)")
        warnings.warn(msg, stacklevel=1)
        pytest.skip(msg)
    return path


class _Collect(HTMLParser):
    """<img src>, <a href> and the keyed cells of the result table."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.cells: dict[str, dict[str, Any]] = {}
        self._cell: str | None = None
        self.body_attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a["src"])
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif tag == "body":
            self.body_attrs = a
        elif tag == "td" and "data-key" in a:
            self._cell = a["data-key"]
            self.cells[self._cell] = {"value": a.get("data-value"), "text": ""}

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.cells[self._cell]["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None


def _parse(text: str) -> _Collect:
    p = _Collect()
    p.feed(text)
    return p


def _lookup(summary: dict, key: str) -> Any:
    node: Any = summary
    for part in key.split("."):
        node = node[part]
    return node


def test_page_is_static_and_self_contained(run_dir: Path) -> None:
    text = (run_dir / "index.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert "<script" not in text.lower(), "the page must work without scripts"
    pngs = sorted(p.name for p in run_dir.glob("*.png"))
    assert "plane.png" in pngs and "projection_m_miss2_log.png" in pngs
    assert sorted(page.images) == pngs, "every figure of the directory is on the page"
    for ref in page.images + page.links:
        assert "://" not in ref and not ref.startswith("/"), f"non-relative link {ref}"
        assert (run_dir / ref).exists() or ref == "index.pdf", ref
    for word in ("Provenance", "Systematic uncertainties", "Cutflows", "BLINDED"):
        assert word in text, word


def test_result_table_holds_the_numbers_of_summary_json(run_dir: Path) -> None:
    from nutag.outputs.html_report import num

    summary = json.loads((run_dir / "summary.json").read_text())
    cells = _parse((run_dir / "index.html").read_text(encoding="utf-8")).cells
    wanted = {"n_kaon_decays", "n_sig.value", "background_total.value", "observed",
              *(f"backgrounds.{k}.value" for k in summary["backgrounds"])}
    assert wanted <= set(cells), wanted - set(cells)
    for key, cell in cells.items():
        value = _lookup(summary, key)
        if value is None:
            assert cell["value"] is None, key
            continue
        assert float(cell["value"]) == value, key  # the exact number of summary.json
        if key not in ("n_kaon_decays", "observed"):
            assert num(value, 2 if key.startswith("s_over_b") else 3) in cell["text"], key
    assert cells["observed"]["text"] == "blinded"


def test_cutflows_md_has_expected_events_and_no_nan(run_dir: Path) -> None:
    text = (run_dir / "cutflows.md").read_text(encoding="utf-8")
    assert "| expected events |" in text
    assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE)


def test_every_image_loads_in_headless_chromium(run_dir: Path, browser: str,
                                                tmp_path: Path) -> None:
    from nutag.outputs.html_report import run_browser

    check = run_dir / "_image_check.html"  # the page plus a probe script, beside its images
    html = (run_dir / "index.html").read_text(encoding="utf-8")
    check.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    try:
        proc = run_browser(["--virtual-time-budget=10000", "--dump-dom", check.as_uri()])
    finally:
        check.unlink()
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _parse(proc.stdout)
    assert "data-image-check" in dom.body_attrs, "the probe did not run: " + proc.stderr[-500:]
    images = json.loads(dom.body_attrs["data-image-check"])
    assert images, "no image on the page"
    broken = [src for src, ok, _ in images if not ok]
    assert not broken, f"images that do not load: {broken}"
    shot = tmp_path / "index.png"
    proc = run_browser(["--window-size=1300,2400", f"--screenshot={shot}",
                        (run_dir / "index.html").as_uri()])
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-1000:]


def test_pdf_of_the_page(run_dir: Path, browser: str) -> None:
    pdf = run_dir / "index.pdf"
    assert pdf.is_file(), "nutag run did not print index.pdf although chromium is installed"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pdf_is_skipped_with_a_warning_without_a_browser(run_dir: Path, tmp_path: Path,
                                                         monkeypatch, caplog) -> None:
    from nutag.outputs import html_report

    monkeypatch.setattr(html_report, "find_browser", lambda: None)
    monkeypatch.delenv("NUTAG_PDF", raising=False)  # the suite's default is off
    out = tmp_path / "page"
    shutil.copytree(run_dir, out)
    (out / "index.pdf").unlink(missing_ok=True)
    summary = json.loads((out / "summary.json").read_text())
    with caplog.at_level("WARNING", logger="nutag.outputs.html_report"):
        html_report.write_page(out, summary, {}, sorted(out.glob("*.png")))
    assert (out / "index.html").is_file() and not (out / "index.pdf").exists()
    assert "no chromium" in caplog.text


def test_markdown_tables_and_dashes() -> None:
    from nutag.results.cutflow import _ratio
    from nutag.outputs.html_report import markdown_to_html, num, sci

    out = markdown_to_html("## T\n\n| a | b |\n|---|---:|\n| `x` | 1 |\n\n- item **bold**\n")
    assert "<h2>T</h2>" in out and '<td class="num">1</td>' in out and "<code>x</code>" in out
    assert "<li>item <b>bold</b></li>" in out
    assert num(math.nan) == num(None) == _ratio(math.nan) == "—"
    assert sci(4.987e12) == "4.987×10¹²"


def test_interactive_write_report_needs_a_run() -> None:
    from nutag.core.errors import NutagError
    from nutag.jobs.interactive import InteractiveAnalysis

    ana = InteractiveAnalysis(analysis=None, graphs={}, threads=1, blinded=True)
    with pytest.raises(NutagError, match="run"):
        ana.write_report("nowhere")
