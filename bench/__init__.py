"""Benchmarks: one script per subject, each printing one JSON object.

Run ``python -m bench list`` to see them, ``python -m bench NAME [ARGS...]`` to run one (the
arguments go to that script's ``main``), ``python -m bench all`` to run every script in turn (each
in its own process) and print ``{name: result}``. Speeds are ratios to a plain baseline measured in
the same run, from medians over repeats.
"""
