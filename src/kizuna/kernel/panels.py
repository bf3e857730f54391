"""The task groups of ``kizuna --help``: each command is listed under what it is for.

A plugin's command group picks one with ``typer.Typer(rich_help_panel=panels.DATA)``; a group
that names none is listed under :data:`WORK`.
"""

SET_UP = "Set up a node"
RUN = "Run"
CHECK = "Check and audit"
DATA = "Data in and out"
WORK = "Work"

ORDER = (SET_UP, RUN, WORK, DATA, CHECK)
