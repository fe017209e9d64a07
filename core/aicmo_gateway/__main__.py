"""``python -m aicmo_gateway``: the command line, when the scripts folder is not on PATH."""

from aicmo_gateway.cli import main

main()
