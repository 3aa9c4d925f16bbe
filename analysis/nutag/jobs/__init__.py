"""The jobs a user runs: the main analysis pipeline and the interactive session API.
"""
