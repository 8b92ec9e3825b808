"""One module per subcommand of the `lstmviz` command line (see lstmviz/cli.py)."""
