"""The foundation every layer may use: errors, ROOT start-up, atomic writes, places on disk,
versions and provenance, run options (the one place the environment is read), progress.
"""
