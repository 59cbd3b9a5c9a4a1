"""`make bench`: one module per benchmark (``__main__`` runs them: python -m modelops_dev.tools.bench)."""
