"""The main job never analyses a default data set the current code would not produce.

Regression: `nutag run` used to simulate the default data set only when it was missing, so a
changed generator, simulation config or schema left it analysing stale samples until someone ran
`nutag simulate` by hand. Whether a sample is outdated is decided by the data set's manifest
(tests/test_simulate.py covers that); here: the default config always asks for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nutag.jobs import pipeline
from nutag.simulate import dataset


@pytest.mark.parametrize("present", [True, False])
def test_default_config_refreshes_default_dataset(monkeypatch: pytest.MonkeyPatch,
                                                  present: bool) -> None:
    calls: list[tuple[Path, int | None]] = []
    monkeypatch.setattr(pipeline, "_samples_present", lambda _p: present)
    monkeypatch.setattr(dataset, "ensure_default_dataset",
                        lambda out=None, threads=None: calls.append((Path(out), threads)))
    pipeline.ensure_inputs(pipeline.DEFAULT_CONFIG, threads=3)
    expected = (pipeline.DEFAULT_CONFIG.parent / "../data/default").resolve()
    assert calls == [(expected, 3)]
