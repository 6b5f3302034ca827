"""The version of jupyter-core-server-terminals (read by hatchling)."""

__version__ = "0.1.0"
