"""``python -m modelops_dev.cli``: the ``modelops`` command."""

from modelops_dev.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
