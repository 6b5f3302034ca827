"""The version of jupyter-core-server-migrate (read by hatchling)."""

__version__ = "0.1.0"
