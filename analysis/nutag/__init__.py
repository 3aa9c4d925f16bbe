"""nutag: a declarative ROOT RDataFrame reproduction of the NA62 neutrino-tagging analysis.

Kept minimal on purpose: importing the package must not import ROOT (slow, and the CLI
wants to print ``--help`` and validate YAML without it). Import the stage modules directly.
"""

__version__ = "0.1.0"
