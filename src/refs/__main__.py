"""``python -m refs``: the same as the ``refs`` command."""

from refs.cli import main

if __name__ == "__main__":
    main()
