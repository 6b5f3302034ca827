"""Built-in plugin kernelspecs."""
