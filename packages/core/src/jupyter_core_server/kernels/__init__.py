"""Built-in plugin kernels."""
