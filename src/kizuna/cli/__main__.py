"""`python -m kizuna.cli`."""

from kizuna.cli import main

main()
