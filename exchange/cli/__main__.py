"""``python -m exchange.cli``: the console script, for benchmarks and ``-X importtime``."""

from exchange.cli import main

main()
