"""The mock's rules in plain Python: no HTTP here, so tests can drive them directly."""
