"""Studies on top of the main job: closure, validation, projection, optimisation, toys.
"""
