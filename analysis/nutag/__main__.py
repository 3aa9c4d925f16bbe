"""``python -m nutag``: the ``nutag`` command without its console script.

Why: batch jobs and fresh LCG-view shells often have the package importable (PYTHONPATH or a
venv) but not the ``nutag`` script on PATH; ``python -m nutag run ...`` behaves identically.
"""

import sys

from nutag.cli import main

if __name__ == "__main__":
    sys.exit(main())
