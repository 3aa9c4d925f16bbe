"""nutag.engine.backends.protocol: one Backend interface, and a backend made in one place from its name.

The backends' results are compared with each other in tests/test_backends_pipeline.py,
tests/test_backends_dask.py and tests/test_backends_condor.py; here: that every name becomes
the backend it says, that the options reach it, and that the pipeline gets its backend from
make_backend (so no second place decides)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nutag.engine.backends import protocol
from nutag.engine.backends.protocol import (BACKENDS, CondorBackend, DaskBackend, LocalBackend,
                                     make_backend)


def test_every_name_makes_its_backend_with_its_options() -> None:
    local = make_backend("local", threads=3, interactive=True)
    assert isinstance(local, LocalBackend) and local.threads == 3 and local.interactive
    dask = make_backend("dask", threads=2, scheduler="tcp://h:8786", partitions=7)
    assert isinstance(dask, DaskBackend)
    assert dict(dask.options) == {"scheduler": "tcp://h:8786", "partitions": 7}
    condor = make_backend("condor", condor_dir="/afs/x", chunk_size=10)
    assert isinstance(condor, CondorBackend)
    assert dict(condor.options) == {"condor_dir": "/afs/x", "chunk_size": 10}
    assert {make_backend(n).name for n in BACKENDS} == set(BACKENDS)
    for backend in (local, dask, condor):
        assert callable(backend.run)


def test_unknown_backend_and_local_only_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown backend 'spark'; available: local, dask"):
        make_backend("spark")
    with pytest.raises(ValueError, match="make_df is local only"):
        make_backend("dask", make_df=lambda sample: sample)


class _Chosen(Exception):
    """Stops the pipeline once it has its backend."""


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_the_pipeline_takes_its_backend_from_make_backend(backend: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's local loop is the interactive one (progress bar, Ctrl-C ends the C++ loop);
    the Dask options of the run reach the Dask backend."""
    from nutag.jobs import pipeline

    seen: dict = {}

    def fake(name: str, **kwargs):  # noqa: ANN202
        seen.update(name=name, **kwargs)
        raise _Chosen

    monkeypatch.setattr(protocol, "make_backend", fake)
    monkeypatch.setattr("nutag.engine.backends.make_backend", fake)
    with pytest.raises(_Chosen):
        pipeline._execute(object(), blinded=True, threads=2, backend=backend,
                          opts={"partitions": 3} if backend == "dask" else {},
                          route=pipeline.RouteOptions())
    assert seen["name"] == backend and seen["threads"] == 2
    if backend == "local":
        assert seen["interactive"] is True and seen["make_df"] is None
    else:
        assert seen["partitions"] == 3
