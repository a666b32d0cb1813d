"""``python -m kizashi``: the ``kizashi`` command, where its script is not on the PATH."""

from kizashi.cli.main import main

if __name__ == "__main__":
    main()
