"""Load and validate a simulation config YAML against the C++ ``nutag::sim::SimConfig`` struct.

Why the struct is the schema: the YAML sets fields of ``SimConfig`` one to one (key == field
name). Keeping a second list in Python would drift; instead the fields and their types are read
from ``cpp/include/nutag/sim/config.hpp`` (no ROOT needed, so a typo is reported in a second,
before any C++ is compiled). After the C++ is loaded, :func:`check_against_cling` cross-checks
the parsed fields with the dictionary/JIT reflection (``TClass::GetListOfDataMembers``), so a
header the parser misread cannot go unnoticed.

The config becomes a C++ object in cling through :func:`cling_declaration`: a uniquely named
namespace holding a ``const SimConfig`` built from the values, referenced by its qualified name
in the RDataFrame ``Define`` of the generator.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.analysis import did_you_mean, load_yaml
from ..core.errors import ConfigError
from ..core.locations import source_root

#: the source root (nutag.core.locations): the checkout, or an installed package's copy of it;
#: the simulation's configuration and data set definitions are read under it
REPO_ROOT = source_root()


def cpp_dir() -> Path:
    """Directory holding ``include/`` and ``src/`` of the C++ core: ``cpp/`` of
    :func:`nutag.core.locations.source_root` (``$NUTAG_SOURCE_DIR`` or the checkout), the one place that
    decides where nutag's sources are."""
    return source_root() / "cpp"


def config_header() -> Path:
    return cpp_dir() / "include" / "nutag" / "sim" / "config.hpp"


DEFAULT_SIM_CONFIG = REPO_ROOT / "simulation" / "default.yaml"

# C++ scalar type -> Python category ("float", "int", "bool")
_CPP_TYPES = {
    "double": "float", "float": "float", "long double": "float",
    "int": "int", "unsigned": "int", "unsigned int": "int", "long": "int",
    "long long": "int", "unsigned long": "int", "unsigned long long": "int",
    "short": "int", "Int_t": "int", "UInt_t": "int", "Long64_t": "int", "ULong64_t": "int",
    "std::int32_t": "int", "std::uint32_t": "int", "std::int64_t": "int",
    "std::uint64_t": "int", "int32_t": "int", "uint32_t": "int", "int64_t": "int",
    "uint64_t": "int", "std::size_t": "int", "size_t": "int",
    "bool": "bool", "Bool_t": "bool", "Double_t": "float", "Float_t": "float",
}
_UNSIGNED = ("unsigned", "UInt_t", "ULong64_t", "uint", "size_t")

_MEMBER = re.compile(
    r"^\s*(?:const\s+)?(?P<type>(?:unsigned\s+|long\s+|signed\s+)*[A-Za-z_][\w:]*)\s+"
    r"(?P<name>[A-Za-z_]\w*)\s*(?:=\s*(?P<init>[^;{]+)|\{(?P<brace>[^}]*)\})?\s*;")


@dataclass(frozen=True)
class ConfigField:
    """One data member of SimConfig: C++ type, Python category, default text, comment."""

    name: str
    cpp_type: str
    category: str  # float | int | bool
    default: str
    doc: str


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def parse_sim_config_header(header: str | os.PathLike | None = None) -> dict[str, ConfigField]:
    """Return the scalar data members of ``struct SimConfig`` in declaration order.

    A deliberately small parser: one member per line (``double name = 1.0;  // doc``), which is
    how config.hpp is written. Members of other types are ignored here (they cannot be set from
    YAML); the cling cross-check catches anything the parser misses.
    """
    path = Path(header) if header else config_header()
    try:
        text = _strip_comments(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), 0, "SimConfig", f"cannot read the C++ config header: "
                          f"{exc.strerror}", "build or check out cpp/include/nutag/sim") from None
    m = re.search(r"struct\s+SimConfig\s*(?:final\s*)?\{", text)
    if not m:
        raise ConfigError(str(path), 0, "SimConfig", "no 'struct SimConfig {' in the header",
                          "the simulation driver needs nutag::sim::SimConfig")
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    body = text[m.end():i - 1]
    fields: dict[str, ConfigField] = {}
    nested = 0
    for line in body.splitlines():
        code, _, comment = line.partition("//")
        if nested:
            nested += code.count("{") - code.count("}")
            continue
        if "(" in code:  # member functions, constructors
            nested += code.count("{") - code.count("}")
            continue
        mm = _MEMBER.match(code)
        if not mm:
            continue
        ctype = " ".join(mm.group("type").split())
        if ctype not in _CPP_TYPES:
            continue
        default = (mm.group("init") or mm.group("brace") or "").strip()
        fields[mm.group("name")] = ConfigField(mm.group("name"), ctype, _CPP_TYPES[ctype],
                                               default, comment.strip())
    if not fields:
        raise ConfigError(str(path), 0, "SimConfig", "found no scalar members in SimConfig",
                          "write one member per line: 'double name = value;  // doc'")
    return fields


@dataclass(frozen=True)
class SimConfigFile:
    """A validated simulation config: the values set in YAML (the rest keep C++ defaults)."""

    path: str
    values: dict[str, float | int | bool]
    fields: dict[str, ConfigField] = field(repr=False, compare=False)

    @property
    def hash(self) -> str:
        """sha256 (16 hex) of the set values and the header text: changes with either."""
        return config_hash(self.values)

    def cpp_type(self, name: str) -> str:
        return self.fields[name].cpp_type


def config_hash(values: dict[str, Any], header: str | os.PathLike | None = None) -> str:
    path = Path(header) if header else config_header()
    try:
        header_text = path.read_text(encoding="utf-8")
    except OSError:
        header_text = ""
    blob = json.dumps({"values": values, "header": header_text}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")


def as_number(value: Any) -> Any:
    """YAML 1.1 reads 1.0e12 / 5e12 (no exponent sign) as strings: accept them as numbers."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        v = float(value)
        return int(v) if re.fullmatch(r"[-+]?\d+", value.strip()) else v
    return value


def _check_value(file: str, line: int, key: str, value: Any, fld: ConfigField) -> Any:
    value = as_number(value)
    def bad(msg: str, hint: str) -> ConfigError:
        return ConfigError(file, line, key, msg, hint)

    if fld.category == "bool":
        if not isinstance(value, bool):
            raise bad(f"expected true or false for the C++ {fld.cpp_type}, got {value!r}",
                      "write true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        from ..config.checks import field_unit, quantity_error  # noqa: PLC0415

        with_unit = quantity_error(value, field_unit(fld.doc))  # "75 GeV": name the unit
        if with_unit is not None:
            raise bad(*with_unit)
        raise bad(f"expected a number for the C++ {fld.cpp_type}, got {type(value).__name__} "
                  f"{value!r}", "write a plain number, e.g. 1.5e-3")
    if fld.category == "int":
        if isinstance(value, float) and not value.is_integer():
            raise bad(f"expected an integer for the C++ {fld.cpp_type}, got {value!r}",
                      "write an integer")
        value = int(value)
        if any(u in fld.cpp_type for u in _UNSIGNED) and value < 0:
            raise bad(f"{fld.cpp_type} cannot be negative", "write a value >= 0")
        return value
    value = float(value)
    if not math.isfinite(value):
        raise bad("value is not finite", "write a finite number")
    return value


def load_sim_config(path: str | os.PathLike | None = None, *,
                    overrides: dict[str, Any] | None = None,
                    header: str | os.PathLike | None = None) -> SimConfigFile:
    """Load ``path`` (default simulation/default.yaml); every key must be a SimConfig field.

    An empty or missing default file means "all C++ defaults". ``overrides`` (e.g. from the
    command line) are validated the same way, reported against ``<overrides>``.
    """
    fields = parse_sim_config_header(header)
    values: dict[str, Any] = {}
    file = os.fspath(path) if path is not None else os.fspath(DEFAULT_SIM_CONFIG)
    if path is not None or os.path.exists(file):
        data = load_yaml(file)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(file, getattr(data, "line", 1), "(top level)",
                              f"expected a mapping 'field: value', got {type(data).__name__}",
                              "write one SimConfig field per line, e.g. 'beam_momentum: 75.0'")
        for key, value in data.items():
            line = data.line_of(key) if hasattr(data, "line_of") else 0
            if key not in fields:
                raise ConfigError(file, line, str(key),
                                  "not a field of nutag::sim::SimConfig "
                                  f"({config_header().name})", did_you_mean(str(key), fields))
            values[key] = _check_value(file, line, str(key), value, fields[key])
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise ConfigError("<overrides>", 0, str(key), "not a field of nutag::sim::SimConfig",
                              did_you_mean(str(key), fields))
        values[key] = _check_value("<overrides>", 0, str(key), value, fields[key])
    return SimConfigFile(file, values, fields)


def cpp_literal(value: Any, cpp_type: str) -> str:
    """C++ literal that round-trips ``value`` exactly (repr of a float is shortest-exact)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        suffix = "ULL" if any(u in cpp_type for u in _UNSIGNED) else "LL"
        return f"static_cast<{cpp_type}>({value}{suffix})"
    text = repr(float(value))
    return text if any(c in text for c in ".en") else text + ".0"


def cling_namespace(values: dict[str, Any], fields: dict[str, ConfigField]) -> str:
    """Unique namespace name for a set of values (same values -> same name, declared once)."""
    blob = json.dumps({k: [values[k], fields[k].cpp_type] for k in sorted(values)})
    return "nutag_cfg_" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def cling_declaration(values: dict[str, Any], fields: dict[str, ConfigField]) -> tuple[str, str]:
    """Return (C++ code, qualified name of the const SimConfig) for these values."""
    ns = cling_namespace(values, fields)
    sets = "".join(f"  c.{k} = {cpp_literal(v, fields[k].cpp_type)};\n"
                   for k, v in values.items())
    code = (f"namespace {ns} {{\n"
            f"inline nutag::sim::SimConfig make() {{\n  nutag::sim::SimConfig c;\n{sets}"
            f"  return c;\n}}\n"
            f"const nutag::sim::SimConfig cfg = make();\n}}\n")
    return code, f"{ns}::cfg"


def check_against_cling(fields: dict[str, ConfigField], root: Any) -> list[str]:
    """Cross-check parsed fields with cling reflection; return all member names from cling.

    Raises ConfigError when the header parser and cling disagree about a settable field.
    """
    cls = root.TClass.GetClass("nutag::sim::SimConfig")
    if not cls:
        return list(fields)
    members = [str(dm.GetName()) for dm in cls.GetListOfDataMembers()]
    missing = [f for f in fields if f not in members]
    if missing:
        raise ConfigError(str(config_header()), 0, "SimConfig",
                          f"fields {missing} parsed from the header are not members in cling",
                          "rebuild the nutag library (it is older than the header)")
    return members


def effective_values(cfg_object: Any, fields: dict[str, ConfigField]) -> dict[str, Any]:
    """All settable fields of a cling SimConfig object (defaults included), for provenance."""
    out: dict[str, Any] = {}
    for name, fld in fields.items():
        v = getattr(cfg_object, name)
        out[name] = bool(v) if fld.category == "bool" else (
            int(v) if fld.category == "int" else float(v))
    return out
