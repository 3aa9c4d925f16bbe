"""What a run writes and draws: the report, plots, the HTML page, the event display and the
atomic results directory. Imports the layers below.
"""
