"""mock-pokee: a faithful fake of the Pokee sessions API, with a contract-test harness."""

__version__ = "0.1.0"
