"""``python -m heplearn``: the same command line as ``heplearn``."""

from heplearn.cli import main

if __name__ == "__main__":
    main()
