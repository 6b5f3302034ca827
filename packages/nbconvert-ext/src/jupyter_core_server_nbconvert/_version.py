"""The version of jupyter-core-server-nbconvert (read by hatchling)."""

__version__ = "0.1.0"
