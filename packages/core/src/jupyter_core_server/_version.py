"""The version of jupyter-core-server, written in this one place."""

__version__ = "0.1.0"
