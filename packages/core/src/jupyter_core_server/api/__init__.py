"""The server's own API: version, status, identity, plugins, spec, health, login and shutdown."""
