"""The version of jupyter-core-server-hub (read by hatchling)."""

__version__ = "0.1.0"
