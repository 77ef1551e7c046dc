"""What every layer may import: settings, credentials blocks, crash points (nothing above them).

The layers (enforced by import-linter, ``make lint``): lw3pl.cli on top; lw3pl.demo and lw3pl.ledger_cli;
flows; tasks; then clients, ledger and lw3pl.core, which import none of the layers above them.
"""
