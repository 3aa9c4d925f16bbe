"""Package data: published.json (the NA62 result nutag reproduces), read via importlib.resources."""
