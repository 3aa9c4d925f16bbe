"""Where nutag finds its sources and where it may write: a checkout, or an installed package.

Why one module: the analysis YAML (configs/, selections/, corrections/), the simulation's
configuration (simulation/), the ntuple schema (samples/) and the C++ (cpp/) are read from the
*source root*; generated data (data/), compiled selections (build/compiled) are written under
the *work root*. In a checkout both are the checkout, as `make` lays it out. An installed
package (``pip install .``, not editable) carries a copy of the sources in ``nutag/_source``
(setup.py) inside site-packages, which is often read-only and shared: its work root is the
user's own data directory instead. The environment switches that move them are read here and
nowhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

#: what the source root holds; a directory with cpp/include is a source root
SOURCE_PARTS = ("cpp", "configs", "selections", "corrections", "simulation", "samples")

#: the nutag package directory (analysis/nutag in a checkout)
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_CHECKOUT = PACKAGE_DIR.parents[1]
_PACKAGED = PACKAGE_DIR / "_source"


def source_root() -> Path:
    """The directory holding cpp/, configs/, selections/...: ``$NUTAG_SOURCE_DIR``, else the
    checkout two levels above this package, else (an installed package, no checkout around
    it) the copy the package carries in ``nutag/_source``."""
    env = os.environ.get("NUTAG_SOURCE_DIR")
    if env:
        return Path(env)
    if not (_CHECKOUT / "cpp" / "include").is_dir() and (_PACKAGED / "cpp" / "include").is_dir():
        return _PACKAGED
    return _CHECKOUT


def installed() -> bool:
    """True when nutag runs from an installed package's copy of its sources."""
    return source_root() == _PACKAGED


def work_root() -> Path:
    """Where nutag writes what it generates (data/, build/compiled): ``$NUTAG_HOME``, else the
    source root of a checkout, else (installed) ``$XDG_DATA_HOME/nutag`` (by default
    ``~/.local/share/nutag``)."""
    env = os.environ.get("NUTAG_HOME")
    if env:
        return Path(env)
    if not installed():
        return source_root()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "nutag"
