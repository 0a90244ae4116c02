"""A thin typed wrapper over Engram's gRPC services."""
from __future__ import annotations

from typing import Iterable, Iterator, Mapping, Optional, Sequence, Union

import grpc
from google.protobuf import json_format

from engram.v1 import attribution_pb2, attribution_pb2_grpc, checkpoints_pb2, common_pb2, edit_pb2
from engram.v1 import edit_service_pb2_grpc, models_pb2, models_pb2_grpc

EditLike = Union[edit_pb2.EditRequest, Mapping]


class EngramError(Exception):
    """A call that failed: ``code`` is the gRPC status code (``grpc.StatusCode``), ``message`` the server's words."""

    def __init__(self, error: grpc.RpcError):
        self.code = error.code()
        self.message = error.details()
        super().__init__(f"{self.code.name}: {self.message}")


class Engram:
    """A connection to an Engram server.

    >>> engram = Engram("localhost:9000")               # token=... where the server requires one
    >>> engram.locate("The capital of France is", " Paris").targets[0].value_neurons[0]
    """

    def __init__(self, address: str = "localhost:9000", token: Optional[str] = None, *, secure: bool = False,
                 timeout: float = 600.0):
        self._channel = grpc.secure_channel(address, grpc.ssl_channel_credentials()) if secure \
            else grpc.insecure_channel(address)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        self._models = models_pb2_grpc.ModelServiceStub(self._channel)
        self._attribution = attribution_pb2_grpc.AttributionServiceStub(self._channel)
        self._edits = edit_service_pb2_grpc.EditServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Engram":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, stream: bool = False):
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise EngramError(e) from None

    @staticmethod
    def _ref(model: str = "", checkpoint: str = "") -> common_pb2.ModelRef:
        return common_pb2.ModelRef(name=model or "", checkpoint=checkpoint or "")

    @staticmethod
    def _edit(edit: Optional[EditLike], fields: Mapping) -> edit_pb2.EditRequest:
        """An EditRequest from a message, a dict in the editing/*.jsonl form, or keyword fields (which win)."""
        request = edit_pb2.EditRequest()
        if isinstance(edit, edit_pb2.EditRequest):
            request.CopyFrom(edit)
        elif edit is not None:
            json_format.ParseDict(dict(edit), request)
        model = fields.pop("model", None)
        checkpoint = fields.pop("checkpoint", None)
        if model is not None or checkpoint is not None:
            request.model.CopyFrom(Engram._ref(model or request.model.name, checkpoint or request.model.checkpoint))
        json_format.ParseDict({k: v for k, v in fields.items() if v is not None}, request)
        return request

    def models(self) -> models_pb2.ListModelsResponse:
        return self._call(self._models.ListModels, models_pb2.ListModelsRequest())

    def predict(self, prompt: str, top_k: int = 5, model: str = "", checkpoint: str = "") -> models_pb2.PredictResponse:
        return self._call(self._models.Predict, models_pb2.PredictRequest(
            model=self._ref(model, checkpoint), prompt=prompt, top_k=top_k))

    def locate(self, prompt: str, target: str = "", top_k: int = 10, model: str = "",
               checkpoint: str = "") -> attribution_pb2.LocateFactResponse:
        """Which value and query neurons make the model say ``target`` after ``prompt`` (LocateFact)."""
        return self._call(self._attribution.LocateFact, attribution_pb2.LocateFactRequest(
            model=self._ref(model, checkpoint), prompt=prompt, target=target, top_k=top_k))

    def propose(self, edit: Optional[EditLike] = None, **fields) -> edit_pb2.ProposeEditResponse:
        """A dry run: locate, edit and verify; nothing changes on the server. ``report.passed`` is the gate's verdict."""
        return self._call(self._edits.ProposeEdit, edit_pb2.ProposeEditRequest(edit=self._edit(edit, fields)))

    def apply(self, edit: Optional[EditLike] = None, **fields) -> checkpoints_pb2.ApplyEditResponse:
        """Verify and commit as the model's new head; a refused edit raises EngramError(FAILED_PRECONDITION)."""
        return self._call(self._edits.ApplyEdit, checkpoints_pb2.ApplyEditRequest(edit=self._edit(edit, fields)))

    def batch(self, edits: Iterable[EditLike], stop_on_failure: bool = False,
              model: Optional[str] = None) -> Iterator[checkpoints_pb2.BatchEditResponse]:
        """BatchEdit: one response per edit, in order, each committed only when it passes."""
        requests = (checkpoints_pb2.BatchEditRequest(
            edit=self._edit(e, {"model": model} if model else {}), stop_on_failure=stop_on_failure) for e in edits)
        try:
            yield from self._edits.BatchEdit(requests, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise EngramError(e) from None

    def compare(self, prompts: Sequence[str], a: str = "base", b: str = "", model: str = "",
                top_k: int = 3) -> checkpoints_pb2.CompareResponse:
        """Two checkpoints side by side (default: the unedited base against the head)."""
        return self._call(self._edits.Compare, checkpoints_pb2.CompareRequest(
            model=model, checkpoint_a=a, checkpoint_b=b, prompts=list(prompts), top_k=top_k))

    def checkpoints(self, model: str = "") -> checkpoints_pb2.ListCheckpointsResponse:
        return self._call(self._edits.ListCheckpoints, checkpoints_pb2.ListCheckpointsRequest(model=model))

    def rollback(self, to: str, model: str = "", expected_head: str = "") -> checkpoints_pb2.RollbackResponse:
        return self._call(self._edits.Rollback, checkpoints_pb2.RollbackRequest(
            model=model, to=to, expected_head=expected_head))
