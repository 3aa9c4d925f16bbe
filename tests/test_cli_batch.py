"""What batch users on shared hosts rely on: ``python -m nutag``, ``--version``, a polite
default thread count, quick partial runs (``--max-files``/``--max-events``) that are recorded
and never silently unblinded, ROOT's own compile flags, and a wheel that carries the C++."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import _robust_toy as rt
from _project import project_copy
import pytest
from nutag.core import argtypes
from nutag import cli
from nutag.engine import compiled
from nutag.engine.compiled import compiler
from nutag.core.errors import NutagError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- entry points
def test_python_m_nutag_version_names_nutag_and_root() -> None:
    proc = subprocess.run([sys.executable, "-m", "nutag", "--version"], env=rt.env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("nutag 0.1.0, ROOT 6.") and "\n" not in line


def test_python_m_nutag_is_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "nutag", "run", "--help"], env=rt.env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "--max-files" in proc.stdout and "--max-events" in proc.stdout


# --------------------------------------------------------------------------- threads
@pytest.mark.parametrize(("cores", "want"), [(1, 1), (2, 2), (4, 4), (64, 4)])
def test_default_threads_is_polite(cores: int, want: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argtypes, "usable_cores", lambda: cores)
    assert argtypes.default_threads() == want


def _captured_run(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake(config: Path | None, **kw: Any) -> tuple[Path, str]:
        seen.update(kw, config=config)
        return Path("results/x"), "table"

    monkeypatch.setattr("nutag.jobs.pipeline.run_analysis", fake)
    assert cli.main(argv) == 0
    return seen


def test_cli_passes_the_polite_default_explicitly(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setattr(argtypes, "usable_cores", lambda: 48)
    seen = _captured_run(monkeypatch, ["run", str(tmp_path / "a.yaml")])
    assert seen["threads"] == 4
    assert seen["max_files"] is None and seen["max_events"] is None
    assert seen["force_partial_unblind"] is False
    seen = _captured_run(monkeypatch, ["run", str(tmp_path / "a.yaml"), "--threads", "16"])
    assert seen["threads"] == 16


def test_cli_passes_the_partial_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    seen = _captured_run(monkeypatch, ["run", str(tmp_path / "a.yaml"), "--max-files", "2",
                                       "--max-events", "1e4"])
    assert (seen["max_files"], seen["max_events"]) == (2, 10000)
    out = capsys.readouterr()
    assert out.out.splitlines()[-1] == "results/x"  # the contract: last line = results dir
    assert "partial run" in out.err and "NOT normalised" in out.err


@pytest.mark.parametrize("flag", ["--max-files", "--max-events"])
def test_partial_options_must_be_positive(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", flag, "0"])
    assert exc.value.code == 2 and "must be >= 1" in capsys.readouterr().err


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("partial", [{"max_files": 1}, {"max_events": 100}])
def test_partial_unblind_is_refused_before_anything_is_read(partial: dict[str, int],
                                                           tmp_path: Path) -> None:
    from nutag.jobs.pipeline import run_analysis

    with pytest.raises(NutagError, match="--force-partial-unblind"):
        run_analysis(tmp_path / "missing.yaml", unblind=True, **partial)


def test_partial_unblind_refused_on_the_command_line(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    code = cli.main(["run", str(tmp_path / "missing.yaml"), "--unblind", "--max-files", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "nutag: error: --unblind with --max-files 1 opens the signal region on part" in err


def test_max_events_needs_the_local_backend(tmp_path: Path) -> None:
    from nutag.jobs.pipeline import run_analysis

    with pytest.raises(NutagError, match="--max-events works with --backend local only"):
        run_analysis(tmp_path / "missing.yaml", max_events=10, backend="condor")


def test_truncate_samples_keeps_the_first_files() -> None:
    from types import SimpleNamespace

    from nutag.config.analysis import Sample
    from nutag.engine.partial import truncate_samples
    from nutag.config.yamlio import Loc

    def sample(name: str, n: int) -> Sample:
        return Sample(name, "mc", [f"{name}{i}.root" for i in range(n)], "nutag", "1", {},
                      "", Loc("samples.yaml", 1))

    analysis = SimpleNamespace(samples={"a": sample("a", 3), "b": sample("b", 1)})
    truncate_samples(analysis, 2)  # type: ignore[arg-type]
    assert analysis.samples["a"].files == ["a0.root", "a1.root"]
    assert analysis.samples["b"].files == ["b0.root"]


# --------------------------------------------------------------------------- a partial run
@pytest.fixture(scope="module")
def three_file_toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy analysis whose every sample lists three files (hard links of one)."""
    base = tmp_path_factory.mktemp("partial")
    samples = rt.write_toy(base / "toy", n=300)
    longer = rt.repeat_files(samples, 3, base / "toy" / "samples3.yaml")
    return rt.write_config(base, longer)


def test_partial_run_reads_what_it_says_and_records_it(three_file_toy: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "res"
    proc = rt.nutag("-q", "run", str(three_file_toy), "--max-files", "2", "--max-events", "250",
                    "--threads", "2", "--output", str(out), check=True)
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert "NOT normalised" in proc.stderr
    prov = json.loads((out / "summary.json").read_text())["provenance"]
    assert prov["partial"] == {"max_files": 2, "max_events": 250, "normalised": False}
    per_sample: dict[str, int] = {}
    for record in prov["inputs"]:
        per_sample[record["sample"]] = per_sample.get(record["sample"], 0) + 1
    assert set(per_sample.values()) == {2}, per_sample
    cutflows = json.loads((out / "cutflows.json").read_text())
    samples = {k: v for k, v in cutflows.items() if not k.startswith("_")}
    assert set(samples) == set(per_sample)
    for name, s in samples.items():
        for region, rows in s["regions"].items():  # 2 files of >= 300 entries: 250 read
            assert rows[0]["cut"] == "(all)" and rows[0]["raw"] == 250, (name, region, rows[0])


# --------------------------------------------------------------------------- compile flags
def test_compile_flags_come_from_root() -> None:
    from nutag.core.rootenv import import_root

    flags = compiled.compile_flags()
    stds = [f for f in flags if f.startswith("-std=")]
    assert len(stds) == 1
    assert stds[0] == compiler._cling_std(import_root())  # the standard ROOT was built with
    assert not any(f.startswith(("-I", "-isystem")) for f in flags)
    assert flags[0] == "-O2" and flags[-2:] == ("-fPIC", "-shared")
    assert compiled.toolchain().flags == flags


def test_without_includes() -> None:
    tokens = ["-pthread", "-std=c++20", "-I/x", "-I", "/y", "-isystem", "/z", "-isystem/w", "-m64"]
    assert compiler._without_includes(tokens) == ("-pthread", "-std=c++20", "-m64")


def test_flags_are_part_of_the_cache_key() -> None:
    import dataclasses

    tc = compiled.toolchain()
    other = dataclasses.replace(tc, flags=tuple(f.replace("-std=c++17", "-std=c++20")
                                                for f in tc.flags) + ("-DX",))
    assert tc.key("int x;") != other.key("int x;")


# --------------------------------------------------------------------------- the wheel
def _pip_wheel(source: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(out),
           "--disable-pip-version-check", "-q"]
    if importlib.util.find_spec("wheel") is not None:  # setuptools' bdist_wheel is installed
        cmd.append("--no-build-isolation")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False,
                          cwd=out.parent)


def test_sdist_and_wheel_carry_the_cpp(tmp_path: Path) -> None:
    src = project_copy(tmp_path)
    sdist_dir = tmp_path / "sdist"
    build_sdist = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    proc = subprocess.run([sys.executable, "-c", build_sdist, str(sdist_dir)],
                          cwd=src, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sdist = sdist_dir / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert any(n.endswith("cpp/include/nutag/kinematics.hpp") for n in names)
    assert any(n.endswith("cpp/src/kinematics.cpp") for n in names)
    assert not any("/cpp/tests/" in n for n in names)

    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked)
    (root,) = unpacked.iterdir()
    dist = tmp_path / "dist"
    dist.mkdir()
    proc = _pip_wheel(root, dist)
    offline = ("No matching distribution", "Could not find a version", "NewConnectionError",
               "Temporary failure in name resolution")
    if proc.returncode != 0 and any(m in proc.stderr for m in offline):
        pytest.skip("building the wheel needs setuptools/wheel from the network")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = dist.glob("nutag-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    headers = {p.relative_to(REPO / "cpp").as_posix() for p in (REPO / "cpp").rglob("*")
               if p.is_file() and p.parts[len(REPO.parts) + 1] in ("include", "src")}
    assert {f"nutag/_source/cpp/{h}" for h in headers} <= names
    assert {"nutag/__main__.py", "nutag/core/versions.py", "nutag/engine/partial.py"} <= names

    # installed without a checkout around it, nutag finds the C++ it carries
    env = {k: v for k, v in os.environ.items() if k != "NUTAG_SOURCE_DIR"}
    env["PYTHONPATH"] = str(tmp_path / "site")
    probe = ("import nutag.engine.cpp as c; print(c.source_root()); "
             "print(len(c.headers()), len(c.sources()))")
    proc = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    where, counts = proc.stdout.strip().splitlines()
    assert Path(where) == tmp_path / "site" / "nutag" / "_source"
    n_headers, n_sources = map(int, counts.split())
    assert n_headers == len(list((REPO / "cpp" / "include" / "nutag").rglob("*.hpp")))
    assert n_sources == len(list((REPO / "cpp" / "src").rglob("*.cpp")))
