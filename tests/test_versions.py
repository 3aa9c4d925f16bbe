"""The ROOT versions nutag needs: one table, checked when a command starts, stated in the docs.

An older ROOT fails late and badly (template errors from the compiled kernel; on 6.36 cppyy
silently accepts the unknown ``RSnapshotOptions.fApproxZippedClusterSize``), so each command
checks the table first. The version is faked by replacing ``versions.root_version_int``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from nutag import cli
from nutag.core import versions

REPO = Path(__file__).resolve().parents[1]


def _fake_root(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    monkeypatch.setattr(versions, "root_version_int", lambda: code)


def test_version_text() -> None:
    assert versions.version_text(64000) == "6.40.00"
    assert versions.version_text(63602) == "6.36.02"


@pytest.mark.parametrize("feature", sorted(versions.REQUIREMENTS))
def test_each_feature_passes_at_its_minimum_and_fails_below(
        feature: str, monkeypatch: pytest.MonkeyPatch) -> None:
    major, minor = versions.REQUIREMENTS[feature].minimum
    at_minimum = major * 10000 + minor * 100
    _fake_root(monkeypatch, at_minimum)
    versions.require([feature])
    _fake_root(monkeypatch, at_minimum - 98)  # the last patch release of the previous series
    with pytest.raises(versions.RootVersionError) as exc:
        versions.require([feature])
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"{feature} needs ROOT >= {major}.{minor:02d}, found ROOT "
                           f"{versions.version_text(at_minimum - 98)}")


def test_the_table_holds_the_known_minimums() -> None:
    req = versions.REQUIREMENTS
    assert req["analysis"].minimum == (6, 36) and "RNTupleReader" in req["analysis"].uses
    assert req["simulate"].minimum == (6, 38) and "fApproxZippedClusterSize" in req["simulate"].uses
    assert req["dask"].minimum == (6, 36) and "RDF.Distributed" in req["dask"].uses
    assert versions.minimum_overall() == (6, 38)


def test_the_real_root_satisfies_every_feature() -> None:
    versions.require(sorted(versions.REQUIREMENTS))


def test_features_of_commands() -> None:
    assert versions.features_of("run") == ("analysis",)
    assert versions.features_of("run", "dask") == ("analysis", "dask")
    assert versions.features_of("run", "local", default_config=True) == ("analysis", "simulate")
    assert versions.features_of("simulate", "dask") == ("simulate",)
    assert versions.features_of("report") == ()
    assert versions.features_of(None) == ()


def test_simulate_refused_on_root_636_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    _fake_root(monkeypatch, 63602)
    called = []
    monkeypatch.setattr("nutag.simulate.cli.cmd_simulate", lambda args: called.append(args))
    code = cli.main(["simulate", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and not called
    assert len(err.splitlines()) == 1
    assert err.startswith("nutag: error: simulate needs ROOT >= 6.38, found ROOT 6.36.02")


def test_run_refused_on_root_634(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _fake_root(monkeypatch, 63406)
    ran = []
    monkeypatch.setattr("nutag.jobs.pipeline.run_analysis", lambda *a, **k: ran.append(a))
    assert cli.main(["run", str(tmp_path / "analysis.yaml")]) == 1 and not ran
    assert "analysis needs ROOT >= 6.36, found ROOT 6.34.06" in capsys.readouterr().err


def test_dask_run_needs_636(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_root(monkeypatch, 63600)
    versions.require(versions.features_of("run", "dask"))
    _fake_root(monkeypatch, 63510)  # a development release between 6.34 and 6.36
    with pytest.raises(versions.RootVersionError, match="needs ROOT >= 6.36"):
        versions.require(versions.features_of("run", "dask"))


def test_report_needs_no_version_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> int:
        raise AssertionError("report must not ask for ROOT's version")

    monkeypatch.setattr(versions, "root_version_int", boom)
    versions.require(versions.features_of("report"))


def _stated(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, text))


def test_docs_state_the_true_minimum() -> None:
    """README.md and environment.yml state what every command needs; cmake/NutagFindROOT.cmake
    what the library needs (the analysis' minimum), as the table says."""
    major, minor = versions.minimum_overall()
    want = f"{major}.{minor}"
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    roots = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("root")]
    assert roots == [f"root>={want}"]
    cmake = (REPO / "cmake" / "NutagFindROOT.cmake").read_text()
    # the build asks for the least any command needs: each command checks its own at start-up
    lowest = min(r.minimum for r in versions.REQUIREMENTS.values())
    assert f"set(NUTAG_ROOT_MINIMUM {lowest[0]}.{lowest[1]})" in cmake
    assert "find_package(ROOT ${NUTAG_ROOT_MINIMUM} REQUIRED" in cmake
    readme = (REPO / "README.md").read_text()
    assert _stated(readme, r"ROOT (?:>=|≥) ?(6\.\d+)") == {want}
    lxplus = (REPO / "docs" / "lxplus.md").read_text()
    assert _stated(lxplus, r"ROOT (?:>=|≥) ?(6\.\d+)") == {want}
    for text in (readme, lxplus, cmake, (REPO / "environment.yml").read_text()):
        assert "6.30" not in text
