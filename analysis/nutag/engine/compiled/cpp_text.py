"""C++ source text: string literals and a line-counting writer for generated code.

Why a writer that counts lines: every YAML expression is preceded by ``#line`` pointing at
its YAML file and line, and the generated code after it must get its own line numbers back,
so a compiler error names either the YAML line or the generated file's real line.
"""

from __future__ import annotations

import re

from ...config.expressions import EXPRESSION_ERROR
from ...config.yamlio import Loc

#: the name of the generated file in the compiler's diagnostics (its code outside expressions)
GENERATED_NAME = "nutag_generated.cxx"
#: the weight columns' names start so (nutag.engine.graph.WEIGHT: "_w", "_w2", "_w_x_<column>")
WEIGHT_PREFIX = "_w"
_RETURN = re.compile(r"\breturn\b")


def cpp_string(text: str) -> str:
    """``text`` as a C++ string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SourceWriter:
    """Source lines, counting them so ``#line`` can give generated code its real numbers back."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.extend(line.split("\n"))

    def expression(self, loc: Loc, head: str, expr: str, key: str) -> None:
        """``head`` + the YAML expression as a function body, with compiler errors inside it
        reported at the YAML file and line, and exceptions it throws in the event loop
        rethrown naming them and ``key`` (free when nothing is thrown).

        Why ``__FILE__`` and ``__LINE__`` and not the numbers written out: they come from the
        ``#line`` directive, which :meth:`.compiler.Toolchain.library_key` leaves out, so
        sources that differ only in where their YAML lines are still share one library. A
        sample's weight (defined at its own line of samples.yaml, and sharing the library with
        the other samples' weights) is named without a line."""
        body = expr if _RETURN.search(expr) else f"return {expr}"
        where = ('std::string(__FILE__) + ":" + std::to_string(nutag_line_)'
                 if not key.startswith(f"columns.{WEIGHT_PREFIX}") else
                 'std::string(__FILE__) + ": a sample\'s weight"')
        self.add(head, f"#line {int(loc.line)} {cpp_string(str(loc.file))}",
                 f"[[maybe_unused]] constexpr int nutag_line_ = __LINE__; try {{ {body}",
                 ";} catch (const std::exception& nutag_e_) { throw std::runtime_error("
                 f"{cpp_string(EXPRESSION_ERROR)} + {where} + {cpp_string(': ' + key + ': ')}"
                 " + nutag_e_.what()); }", "}")
        self.add(f"#line {len(self.lines) + 2} {cpp_string(GENERATED_NAME)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

