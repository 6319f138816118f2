"""Co-production Evidence Atlas: load -> check -> model -> render -> build."""

__version__ = "0.1.0"
