"""Engram over gRPC, with keyword arguments and dataclass results (``results.py``)."""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from typing_extensions import TypedDict, Unpack

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from engram.v1 import attribution_pb2, attribution_pb2_grpc, checkpoints_pb2, common_pb2, edit_pb2
from engram.v1 import edit_service_pb2_grpc, models_pb2, models_pb2_grpc, store_service_pb2, store_service_pb2_grpc

from .results import (Backup, BatchLine, Checkpoint, Commit, Comparison, Diff, Export, Lineage, Location,
                      Prediction, Proposal, Report, StoreCheck, Tokens)

#: An edit in the editing/*.jsonl form (a dict), or an engram.v1.EditRequest.
EditLike = Union[edit_pb2.EditRequest, Mapping]
METHODS = ("subject_neuron", "learned", "closed_form", "rome", "memit", "alpha_edit")


class EditFields(TypedDict, total=False):
    """The keyword arguments of an edit (:meth:`Engram.edit_request`), so that a type checker or an editor knows them
    and a misspelt one is a TypeError naming it."""
    prompt: str
    target_new: str
    target_true: str
    subject: str
    template: str
    paraphrases: Sequence[str]
    neighbours: Union[Mapping[str, str], Sequence]
    method: str
    options: Mapping
    model: str
    checkpoint: str


class EngramError(Exception):
    """A call that failed. ``code`` is the gRPC status code (``grpc.StatusCode``), ``message`` the server's words;
    ``report`` is the verification report of a refused edit (FAILED_PRECONDITION), ``bad_request`` the (field,
    problem) pairs of bad input (INVALID_ARGUMENT), each empty when the status carried none."""

    def __init__(self, error: grpc.RpcError):
        self.code = error.code()
        self.message = error.details()
        self.report: Optional[Report] = None
        self.bad_request: List[tuple] = []
        for key, value in (error.trailing_metadata() or ()):
            if key == "grpc-status-details-bin":
                for detail in status_pb2.Status.FromString(value).details:
                    if detail.Is(edit_pb2.VerificationReport.DESCRIPTOR):
                        report = edit_pb2.VerificationReport()
                        detail.Unpack(report)
                        self.report = Report.of(report)
                    elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                        bad = error_details_pb2.BadRequest()
                        detail.Unpack(bad)
                        self.bad_request = [(v.field, v.description) for v in bad.field_violations]
        super().__init__(f"{self.code.name}: {self.message}")


def _neighbours(neighbours: Optional[Union[Mapping[str, str], Sequence]]) -> Optional[List[dict]]:
    """{prompt: expected} or [(prompt, expected)] or [{"prompt":..., "expected":...}] as the request's list."""
    if neighbours is None:
        return None
    items = neighbours.items() if isinstance(neighbours, Mapping) else neighbours
    return [dict(n) if isinstance(n, Mapping) else {"prompt": n[0], "expected": n[1]} for n in items]


class Engram:
    """A connection to an Engram server.

    >>> engram = Engram("localhost:9000")               # token=... where the server requires one
    >>> engram.locate("The capital of France is", " Paris").targets[0].value_neurons[0].name
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
        self._store = store_service_pb2_grpc.StoreServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Engram":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise EngramError(e) from None

    def _stream(self, method, request) -> Iterator:
        try:
            yield from method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise EngramError(e) from None

    @staticmethod
    def _ref(model: Optional[str] = None, checkpoint: Optional[str] = None) -> common_pb2.ModelRef:
        return common_pb2.ModelRef(name=model or "", checkpoint=checkpoint or "")

    @staticmethod
    def edit_request(edit: Optional[EditLike] = None, *, prompt: Optional[str] = None, target_new: Optional[str] = None,
                     target_true: Optional[str] = None, subject: Optional[str] = None, template: Optional[str] = None,
                     paraphrases: Optional[Sequence[str]] = None,
                     neighbours: Optional[Union[Mapping[str, str], Sequence]] = None, method: Optional[str] = None,
                     options: Optional[Mapping] = None, model: Optional[str] = None,
                     checkpoint: Optional[str] = None) -> edit_pb2.EditRequest:
        """An EditRequest from a message or a dict in the editing/*.jsonl form, with the keyword arguments given on
        top. ``method`` is one of METHODS; ``neighbours`` maps prompts to the answers they must keep."""
        request = edit_pb2.EditRequest()
        if isinstance(edit, edit_pb2.EditRequest):
            request.CopyFrom(edit)
        elif edit is not None:
            json_format.ParseDict(dict(edit), request)
        if model is not None or checkpoint is not None:
            request.model.CopyFrom(Engram._ref(model or request.model.name, checkpoint or request.model.checkpoint))
        for name, value in (("prompt", prompt), ("target_new", target_new), ("target_true", target_true),
                            ("subject", subject), ("template", template)):
            if value is not None:
                setattr(request, name, value)
        if paraphrases is not None:
            request.paraphrases.extend(paraphrases)
        for n in _neighbours(neighbours) or []:
            request.neighbours.add(prompt=n["prompt"], expected=n["expected"])
        if options is not None:
            json_format.ParseDict(dict(options), request.options)
        if method is not None:
            if method.lower() not in METHODS:
                raise ValueError(f"method {method!r}: expected one of {', '.join(METHODS)}")
            request.options.method = edit_pb2.EditMethod.Value("EDIT_METHOD_" + method.upper())
        return request

    # ModelService

    def models(self) -> List[dict]:
        """The models the server serves: name, family, layers, d_model, vocabulary size, source, …, one dict each."""
        response = self._call(self._models.ListModels, models_pb2.ListModelsRequest())
        return [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in response.models]

    def predict(self, prompt: str, *, top_k: int = 10, model: Optional[str] = None,
                checkpoint: Optional[str] = None) -> Prediction:
        """The next-token distribution's top ``top_k``."""
        return Prediction.of(self._call(self._models.Predict, models_pb2.PredictRequest(
            model=self._ref(model, checkpoint), prompt=prompt, top_k=top_k)))

    def generate(self, prompt: str, *, max_new_tokens: int = 32, model: Optional[str] = None,
                 checkpoint: Optional[str] = None) -> Iterator[str]:
        """Greedy continuation, yielded a token's text at a time as the server streams it."""
        for token in self._stream(self._models.Generate, models_pb2.GenerateRequest(
                model=self._ref(model, checkpoint), prompt=prompt, max_new_tokens=max_new_tokens)):
            yield token.text_delta

    def tokenize(self, text: str, *, model: Optional[str] = None, checkpoint: Optional[str] = None) -> Tokens:
        """The tokens ``text`` is read as: ids and each token's own text (TransformerLens's to_str_tokens)."""
        r = self._call(self._models.Tokenize, models_pb2.TokenizeRequest(model=self._ref(model, checkpoint), text=text))
        return Tokens(list(r.ids), list(r.tokens))

    def activations(self, prompt: str, hooks: Sequence[str], *, positions: Optional[Sequence[int]] = None,
                    model: Optional[str] = None, checkpoint: Optional[str] = None) -> Dict[str, "numpy.ndarray"]:
        """Activations at TransformerLens hook points (``blocks.3.hook_resid_post``, ``blocks.0.attn.hook_pattern``,
        ``blocks.2.mlp.hook_post``, …) for ``positions`` (default: all; -1 is the last), as numpy arrays by hook name
        (their axes in ``activation_axes``). Needs numpy."""
        import numpy
        r = self._call(self._models.GetActivations, models_pb2.ActivationsRequest(
            model=self._ref(model, checkpoint), prompt=prompt, hooks=list(hooks), positions=list(positions or [])))
        return {a.hook: numpy.frombuffer(a.values, dtype="<f4").reshape(tuple(a.shape)) for a in r.activations}

    @staticmethod
    def activation_axes(hook: str) -> List[str]:
        """The axes of a hook point's array, as GetActivations gives it."""
        if hook.endswith("attn.hook_pattern"):
            return ["head", "query", "source"]
        if hook.endswith("attn.hook_v"):
            return ["head", "source", "d_head"]
        return ["position", "neuron" if hook.endswith("mlp.hook_post") else "d_model"]

    # AttributionService

    def locate(self, prompt: str, target: str = "", *, top_k: int = 10, model: Optional[str] = None,
               checkpoint: Optional[str] = None, options: Optional[Mapping] = None) -> Location:
        """Which value and query neurons make the model say ``target`` after ``prompt`` (LocateFact)."""
        return Location.of(self._call(self._attribution.LocateFact, self._locate_request(
            prompt, target, top_k, model, checkpoint, options)))

    def locate_facts(self, facts: Iterable[Union[Sequence[str], Mapping]], *, top_k: int = 10,
                     model: Optional[str] = None, checkpoint: Optional[str] = None,
                     on_progress: Optional[Callable[[int, int], None]] = None) -> List[Location]:
        """LocateFacts: many (prompt, target) pairs in one call, results in the order given; ``on_progress(done,
        total)`` is called as each arrives."""
        requests = [self._locate_request(f["prompt"], f.get("target", ""), top_k, model, checkpoint, f.get("options"))
                    if isinstance(f, Mapping) else self._locate_request(f[0], f[1] if len(f) > 1 else "", top_k,
                                                                        model, checkpoint, None) for f in facts]
        out: Dict[int, Location] = {}
        for r in self._stream(self._attribution.LocateFacts, attribution_pb2.LocateFactsRequest(requests=requests)):
            out[r.index] = Location.of(r.result)
            if on_progress:
                on_progress(r.completed, r.total)
        return [out[i] for i in sorted(out)]

    def _locate_request(self, prompt, target, top_k, model, checkpoint, options) -> attribution_pb2.LocateFactRequest:
        request = attribution_pb2.LocateFactRequest(model=self._ref(model, checkpoint), prompt=prompt, target=target,
                                                    top_k=top_k)
        if options:
            json_format.ParseDict(dict(options), request.options)
        return request

    # EditService

    def propose(self, edit: Optional[EditLike] = None, **fields: Unpack[EditFields]) -> Proposal:
        """A dry run: locate, edit and verify; nothing changes on the server. ``.passed`` is the gate's verdict.
        Keyword arguments as :meth:`edit_request`."""
        return Proposal.of(self._call(self._edits.ProposeEdit, edit_pb2.ProposeEditRequest(
            edit=self.edit_request(edit, **fields))))

    def apply(self, edit: Optional[EditLike] = None, **fields: Unpack[EditFields]) -> Commit:
        """Verify and commit as the model's new head. A refused edit raises EngramError (FAILED_PRECONDITION) whose
        ``report`` says which gates failed and why."""
        return Commit.of(self._call(self._edits.ApplyEdit, checkpoints_pb2.ApplyEditRequest(
            edit=self.edit_request(edit, **fields))))

    def batch(self, edits: Iterable[EditLike], *, stop_on_failure: bool = False, joint: bool = False,
              model: Optional[str] = None) -> Iterator[BatchLine]:
        """BatchEdit: one BatchLine per edit, in order, as the server answers (each carries the batch's progress).
        ``joint``: every edit solved as one delta and committed as one checkpoint only if every fact passes."""
        def requests():
            for i, e in enumerate(edits):
                yield checkpoints_pb2.BatchEditRequest(edit=self.edit_request(e, model=model),
                                                       stop_on_failure=stop_on_failure, joint=joint and i == 0)
        try:
            for r in self._edits.BatchEdit(requests(), timeout=self._timeout, metadata=self._metadata):
                yield BatchLine.of(r)
        except grpc.RpcError as e:
            raise EngramError(e) from None

    def checkpoints(self, model: Optional[str] = None) -> Lineage:
        """The model's checkpoints, newest first, and its head."""
        return Lineage.of(self._call(self._edits.ListCheckpoints,
                                     checkpoints_pb2.ListCheckpointsRequest(model=model or "")))

    def checkpoint(self, checkpoint: str = "", *, model: Optional[str] = None) -> Checkpoint:
        """One checkpoint with the request it committed and its report (``raw.request``, ``raw.report``)."""
        return Checkpoint.of(self._call(self._edits.GetCheckpoint, checkpoints_pb2.GetCheckpointRequest(
            model=self._ref(model, checkpoint))).checkpoint)

    def diff(self, source: str = "base", target: str = "", *, model: Optional[str] = None) -> Diff:
        """The weights that differ between two checkpoints (default: the base against the head)."""
        return Diff.of(self._call(self._edits.Diff, checkpoints_pb2.DiffRequest(
            model=model or "", to=target, **{"from": source})))

    def compare(self, prompts: Sequence[str], *, a: str = "base", b: str = "", model: Optional[str] = None,
                top_k: int = 3) -> List[Comparison]:
        """Two checkpoints side by side on each prompt (default: the unedited base against the head)."""
        return [Comparison.of(p) for p in self._call(self._edits.Compare, checkpoints_pb2.CompareRequest(
            model=model or "", checkpoint_a=a, checkpoint_b=b, prompts=list(prompts), top_k=top_k)).prompts]

    def rollback(self, to: str, *, model: Optional[str] = None, expected_head: str = "") -> str:
        """Moves the head to ``to`` ("base" or a checkpoint id); returns the new head."""
        return self._call(self._edits.Rollback, checkpoints_pb2.RollbackRequest(
            model=model or "", to=to, expected_head=expected_head)).head

    def export(self, checkpoint: str = "", *, model: Optional[str] = None, name: str = "") -> Export:
        """Writes a checkpoint (default: the head) in the Hugging Face layout on the server's export directory."""
        return Export.of(self._call(self._edits.ExportCheckpoint, checkpoints_pb2.ExportCheckpointRequest(
            model=self._ref(model, checkpoint), name=name)))

    def verify_store(self, *, grace_seconds: int = 0) -> StoreCheck:
        """Checks the server's store against its ledger (admin scope); leftovers younger than ``grace_seconds``
        (default 600) are reported as possibly in flight."""
        return StoreCheck.of(self._call(self._store.VerifyStore,
                                        store_service_pb2.VerifyStoreRequest(grace_seconds=grace_seconds)))

    def backup_store(self, name: str = "") -> Backup:
        """A consistent backup of the store into the server's backup directory (admin scope); default name
        backup-<UTC time>. Restore it with ``engram store restore``."""
        return Backup.of(self._call(self._store.BackupStore, store_service_pb2.BackupStoreRequest(name=name)))

    # EasyEdit's shape

    def edit(self, prompts: Union[str, Sequence[str]], target_new: Union[str, Sequence[str]],
             ground_truth: Optional[Union[str, Sequence[str]]] = None,
             rephrase_prompts: Optional[Union[str, Sequence[str]]] = None,
             locality_inputs: Optional[Mapping] = None, *, subject: Optional[Union[str, Sequence[str]]] = None,
             method: Optional[str] = None, commit: bool = False, model: Optional[str] = None) -> List[dict]:
        """EasyEdit's ``BaseEditor.edit``: one dict per prompt with the request and its ``pre`` and ``post`` metrics
        (``rewrite_acc``: P(new) > P(true) on the prompt; ``rephrase_acc``: the share of rephrasings that prefer the
        new answer; ``locality``: per locality set, the share of its prompts that keep their answer), ``passed`` (the
        gate) and ``checkpoint`` (the id committed when ``commit`` and the gate passed, else None).
        ``locality_inputs`` is EasyEdit's {name: {"prompt": [...], "ground_truth": [...]}}."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)

        def each(value, i):
            if value is None or isinstance(value, str):
                return value
            return value[i]
        out = []
        for i, prompt in enumerate(prompts):
            rephrase = each(rephrase_prompts, i)
            neighbours = []
            for name, block in (locality_inputs or {}).items():
                ps = [block["prompt"]] if isinstance(block["prompt"], str) else block["prompt"]
                gs = [block["ground_truth"]] if isinstance(block["ground_truth"], str) else block["ground_truth"]
                neighbours += [(name, p, g) for p, g in zip(ps, gs)]
            who = each(subject, i)
            if who is not None and who not in prompt:
                raise ValueError(f"subject {who!r} is not in the prompt {prompt!r}")
            # the server takes a subject with its template: the prompt with {} where the subject is
            template = prompt.replace(who, "{}", 1) if who is not None else None
            request = self.edit_request(prompt=None if who is not None else prompt, target_new=each(target_new, i),
                                        target_true=each(ground_truth, i), subject=who, template=template,
                                        paraphrases=[rephrase] if rephrase else None,
                                        neighbours=[(p, g) for _, p, g in neighbours] or None, method=method,
                                        model=model)
            checkpoint = None
            if commit:
                try:
                    committed = self.apply(request)
                    proposal, checkpoint = committed.proposal, committed.checkpoint.id
                except EngramError as e:
                    if e.report is None:
                        raise
                    proposal = None
                    report = e.report
            else:
                proposal = self.propose(request)
            if proposal is not None:
                report = proposal.report
            out.append({"case_id": i, "requested_rewrite": {"prompt": prompt, "subject": who,
                                                            "target_new": request.target_new,
                                                            "ground_truth": request.target_true,
                                                            "rephrase_prompt": rephrase},
                        "pre": _metrics(report, neighbours, before=True),
                        "post": _metrics(report, neighbours, before=False),
                        "passed": report.passed, "failed_gates": report.failed_gates, "checkpoint": checkpoint})
        return out


def _metrics(report: Report, neighbours: List[tuple], before: bool) -> dict:
    """EasyEdit's metrics from the gate's report, on the parent (``before``) or the edited model."""
    def prefers_new(p):
        new, true = (p.new_probability_before, p.true_probability_before) if before else (p.new_probability,
                                                                                          p.true_probability)
        return new > true
    metrics = {"rewrite_acc": [1.0 if prefers_new(report.efficacy) else 0.0]}
    if report.paraphrases:
        metrics["rephrase_acc"] = [sum(prefers_new(p) for p in report.paraphrases) / len(report.paraphrases)]
    if neighbours and not before:
        # as EasyEdit, locality is measured after the edit only: the share of each set's prompts that keep their answer
        kept = {}
        for (name, _, _), check in zip(neighbours, report.neighbours):
            kept.setdefault(name, []).append(1.0 if check.success else 0.0)
        metrics["locality"] = {f"{name}_acc": [sum(v) / len(v)] for name, v in kept.items()}
    return metrics
