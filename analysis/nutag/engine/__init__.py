"""The engine: graphs booked per sample, the route each takes (jitted, compiled, fused), the one
event loop and the backends that run it. Imports core, config and results.
"""
