"""`make mutation`: mutmut over the mock's rules, a seeded sample by default (docs/testing.md)."""
