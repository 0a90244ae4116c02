"""Engram's Python client: ``Engram(address, token).locate(...)``, ``.propose(...)``, ``.apply(...)``, ``.batch(...)``,
``.compare(...)``, ``.checkpoints(...)``, ``.rollback(...)``. The messages are the engram.v1 protos, generated from
the repository's proto/ when this package is built."""
from .client import Engram, EngramError

__all__ = ["Engram", "EngramError"]
