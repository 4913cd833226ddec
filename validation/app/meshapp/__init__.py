"""meshapp: a small instrumented application whose traces meshsim imports.

topology.json says what it does; record.py runs it (see tests/data/traces/README.md).
"""
