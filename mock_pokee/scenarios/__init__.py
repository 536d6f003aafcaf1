"""Scenarios (contract D): what the fake agent does in a turn — schema, loading, running."""
