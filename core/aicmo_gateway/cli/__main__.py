"""``python -m aicmo_gateway.cli``."""

from aicmo_gateway.cli import main

main()
