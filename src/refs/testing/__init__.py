"""Tools for testing refs and programs built on it: the replay server."""
