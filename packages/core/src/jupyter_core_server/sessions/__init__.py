"""Built-in plugin sessions."""
