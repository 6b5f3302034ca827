"""The version of jupyter-core-server-frontend (read by hatchling)."""

__version__ = "0.1.0"
