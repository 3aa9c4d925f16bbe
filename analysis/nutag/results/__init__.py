"""Arithmetic on the engine's plain numbers (yields, cutflows, variations, statistics): no ROOT,
no engine. Imports nutag.core and nutag.config.analysis.
"""
