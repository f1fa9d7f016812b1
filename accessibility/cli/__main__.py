"""``python -m accessibility.cli``: the command line."""

from accessibility.cli import main

main()
