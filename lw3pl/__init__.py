"""lw3pl: a Linnworks <-> 3PL connector on Prefect 3."""

__version__ = "0.1.0"
