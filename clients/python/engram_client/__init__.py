"""Engram's Python client: ``Engram(address, token)`` with ``.locate``, ``.locate_facts``, ``.predict``, ``.generate``,
``.propose``, ``.apply``, ``.batch``, ``.edit`` (EasyEdit's shape), ``.checkpoints``, ``.checkpoint``, ``.diff``,
``.compare``, ``.rollback``, ``.export`` and ``.models``. Results are dataclasses (``engram_client.results``);
``to_dict`` and ``to_frame`` (pandas) turn them into plain data. The engram.v1 messages are generated from the
protos when this package is built."""
from .client import METHODS, Engram, EngramError
from .results import to_dict, to_frame

__all__ = ["Engram", "EngramError", "METHODS", "to_dict", "to_frame"]
