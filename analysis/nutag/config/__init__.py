"""Configuration: the analysis YAML read, checked and turned into model dataclasses, before any
event is read. Imports only nutag.core.
"""
