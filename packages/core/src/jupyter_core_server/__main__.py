"""``python -m jupyter_core_server`` runs the server."""

from .cli import main

main()
