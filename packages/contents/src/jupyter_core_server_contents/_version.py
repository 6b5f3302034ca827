"""The version of jupyter-core-server-contents (the one place it is written)."""

__version__ = "0.1.0"
