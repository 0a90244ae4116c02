"""What the server answers, as plain dataclasses: gates by name, scores that are None when not measured, and the proto
message each came from under ``raw`` for anything not lifted out."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Dict, List, Optional

from engram.v1 import edit_pb2


def _optional(message, name: str) -> Optional[float]:
    """A score the server measured, or None: an unset score was not measured (never a success)."""
    return getattr(message, name) if message.HasField(name) else None


@dataclass(frozen=True)
class Candidate:
    """A next-token candidate."""
    id: int
    text: str
    probability: float
    log_probability: float

    @staticmethod
    def of(c) -> "Candidate":
        return Candidate(c.id, c.text, c.probability, c.log_probability)


@dataclass(frozen=True)
class Tokens:
    """A text as the model reads it: token ids and each token's own text."""
    ids: List[int]
    tokens: List[str]


@dataclass(frozen=True)
class Prediction:
    model: str
    checkpoint: str
    prompt_token_ids: List[int]
    candidates: List[Candidate]
    raw: Any = field(repr=False, compare=False, default=None)

    @staticmethod
    def of(r) -> "Prediction":
        return Prediction(r.model.name, r.model.checkpoint, list(r.prompt_token_ids),
                          [Candidate.of(c) for c in r.candidates], r)


@dataclass(frozen=True)
class NeuronScore:
    """A value or query neuron: an FFN neuron (``index``) or an attention value neuron (``head``, ``dim``)."""
    kind: str
    layer: int
    position: int
    score: float
    coefficient: float
    top_tokens: List[str]
    index: Optional[int] = None
    head: Optional[int] = None
    dim: Optional[int] = None

    @property
    def name(self) -> str:
        return f"L{self.layer} FFN {self.index}" if self.kind == "ffn" else f"L{self.layer} H{self.head} d{self.dim}"

    @staticmethod
    def of(n) -> "NeuronScore":
        if n.HasField("ffn"):
            return NeuronScore("ffn", n.ffn.layer, n.position, n.score, n.coefficient, list(n.top_tokens),
                               index=n.ffn.index)
        return NeuronScore("attention", n.attention.layer, n.position, n.score, n.coefficient, list(n.top_tokens),
                           head=n.attention.head, dim=n.attention.dim)


@dataclass(frozen=True)
class LayerScores:
    layer: int
    attention: float
    ffn: float
    query_attention: float
    query_ffn: float
    heads: List[float]


@dataclass(frozen=True)
class TargetAttribution:
    """One attributed target token: its log-probability, the neurons behind it, and the layer and head scores."""
    position: int
    token_id: int
    token: str
    log_prob: float
    log_prob_gain: float
    value_neurons: List[NeuronScore]
    query_neurons: List[NeuronScore]
    layers: List[LayerScores]

    def heads_array(self):
        """The head scores as a numpy array [layers, heads] (numpy is optional: ``pip install engram-client[numpy]``)."""
        import numpy
        return numpy.array([layer.heads for layer in self.layers], dtype=float)

    @staticmethod
    def of(t) -> "TargetAttribution":
        return TargetAttribution(t.position, t.token_id, t.token, t.log_prob, t.log_prob_gain,
                                 [NeuronScore.of(n) for n in t.value_neurons],
                                 [NeuronScore.of(n) for n in t.query_neurons],
                                 [LayerScores(s.layer, s.attention, s.ffn, s.query_attention, s.query_ffn, list(s.heads))
                                  for s in t.layers])


@dataclass(frozen=True)
class Location:
    """LocateFact's answer."""
    model: str
    checkpoint: str
    prompt_token_ids: List[int]
    targets: List[TargetAttribution]
    raw: Any = field(repr=False, compare=False, default=None)

    @staticmethod
    def of(r) -> "Location":
        return Location(r.model.name, r.model.checkpoint, list(r.prompt_token_ids),
                        [TargetAttribution.of(t) for t in r.targets], r)


@dataclass(frozen=True)
class PromptCheck:
    """One prompt the gate scored, before (the parent) and after (the edited model)."""
    prompt: str
    expected: str
    success: bool
    new_probability_before: float
    true_probability_before: float
    new_probability: float
    true_probability: float
    kl: float
    top_before: List[Candidate]
    top_after: List[Candidate]

    @staticmethod
    def of(p) -> "PromptCheck":
        return PromptCheck(p.prompt, p.expected, p.success, p.new_probability_before, p.true_probability_before,
                           p.new_probability, p.true_probability, p.kl, [Candidate.of(c) for c in p.top_before],
                           [Candidate.of(c) for c in p.top_after])


@dataclass(frozen=True)
class GateVerdict:
    gate: str
    passed: bool
    detail: str


def gate_name(value: int) -> str:
    """GATE_SPECIFICITY -> "SPECIFICITY"."""
    return edit_pb2.Gate.Name(value).replace("GATE_", "")


@dataclass(frozen=True)
class Report:
    """The verification gate's report. Scores are None where nothing was measured. ``ns`` is CounterFact's NS (the
    same-object neighbours the gate found); ``neighbourhood_score`` covers the neighbours the caller gave."""
    passed: bool
    failed_gates: List[str]
    gates: List[GateVerdict]
    efficacy: PromptCheck
    paraphrases: List[PromptCheck]
    neighbours: List[PromptCheck]
    same_object_neighbours: List[PromptCheck]
    relation_neighbours: List[PromptCheck]
    earlier_edits: List[PromptCheck]
    sentinels: List[PromptCheck]
    paraphrase_score: Optional[float]
    neighbourhood_score: Optional[float]
    same_object_score: Optional[float]
    relation_score: Optional[float]
    earlier_edit_score: Optional[float]
    fluency_parent_entropy: float
    fluency_edited_entropy: float
    raw: Any = field(repr=False, compare=False, default=None)

    @property
    def es(self) -> float:
        """Efficacy: 1 when P(new) > P(true) on the edit prompt."""
        return 1.0 if self.efficacy.new_probability > self.efficacy.true_probability else 0.0

    @property
    def ps(self) -> Optional[float]:
        return self.paraphrase_score

    @property
    def ns(self) -> Optional[float]:
        return self.same_object_score

    @staticmethod
    def of(r) -> "Report":
        checks = lambda ps: [PromptCheck.of(p) for p in ps]  # noqa: E731
        return Report(r.passed, [gate_name(g) for g in r.failed_gates],
                      [GateVerdict(gate_name(g.gate), g.passed, g.detail) for g in r.gates],
                      PromptCheck.of(r.efficacy), checks(r.paraphrases), checks(r.neighbours),
                      checks(r.same_object_neighbours), checks(r.relation_neighbours), checks(r.earlier_edits),
                      checks(r.sentinels), _optional(r, "paraphrase_score"), _optional(r, "neighbourhood_score"),
                      _optional(r, "same_object_score"), _optional(r, "relation_score"),
                      _optional(r, "earlier_edit_score"), r.fluency.parent_entropy, r.fluency.edited_entropy, r)


@dataclass(frozen=True)
class DeltaSummary:
    """The weights an edit changes: its method, how many parameters, their norm and hash."""
    method: str
    vectors: int
    parameters_touched: int
    parameters_touched_fraction: float
    norm: float
    hash: str

    @staticmethod
    def of(d) -> "DeltaSummary":
        return DeltaSummary(edit_pb2.EditMethod.Name(d.method).replace("EDIT_METHOD_", ""), len(d.vectors),
                            d.parameters_touched, d.parameters_touched_fraction, d.norm, d.hash)


@dataclass(frozen=True)
class Proposal:
    """An edit made and verified (ProposeEdit, or the proposal behind a commit)."""
    model: str
    checkpoint: str
    prompt: str
    target_new: str
    target_true: str
    delta: DeltaSummary
    report: Report
    total_ms: int
    raw: Any = field(repr=False, compare=False, default=None)

    @property
    def passed(self) -> bool:
        return self.report.passed

    @staticmethod
    def of(p) -> "Proposal":
        return Proposal(p.model.name, p.model.checkpoint, p.prompt, p.target_new, p.target_true,
                        DeltaSummary.of(p.delta), Report.of(p.report), p.timings.total_ms, p)


@dataclass(frozen=True)
class Checkpoint:
    id: str
    model: str
    parent_id: str
    is_head: bool
    author: str
    created_at: str
    prompt: str
    target_new: str
    target_true: str
    parameters_touched: int
    facts: int
    raw: Any = field(repr=False, compare=False, default=None)

    @staticmethod
    def of(c) -> "Checkpoint":
        return Checkpoint(c.id, c.model, c.parent_id, c.is_head, c.author, c.created_at, c.prompt, c.target_new,
                          c.target_true, c.parameters_touched, c.facts, c)


@dataclass(frozen=True)
class Commit:
    """ApplyEdit's answer: the checkpoint committed and the proposal that passed."""
    checkpoint: Checkpoint
    proposal: Proposal

    @staticmethod
    def of(r) -> "Commit":
        return Commit(Checkpoint.of(r.checkpoint), Proposal.of(r.proposal))


@dataclass(frozen=True)
class Lineage:
    """A model's checkpoints, newest first, and its head ("base" when nothing is committed)."""
    model: str
    head: str
    checkpoints: List[Checkpoint]

    @staticmethod
    def of(r) -> "Lineage":
        return Lineage(r.model, r.head, [Checkpoint.of(c) for c in r.checkpoints])


@dataclass(frozen=True)
class BatchLine:
    """One BatchEdit line's outcome (COMMITTED, GATE_FAILED, INVALID, ABORTED, ERROR, NOT_COMMITTED) and the batch's
    progress after it; ``bad_request`` lists (field, problem) for an invalid line."""
    index: int
    outcome: str
    message: str
    proposal: Optional[Proposal]
    checkpoint: Optional[Checkpoint]
    received: int
    committed: int
    failed: int
    bad_request: List[tuple]
    raw: Any = field(repr=False, compare=False, default=None)

    @staticmethod
    def of(r) -> "BatchLine":
        from engram.v1 import checkpoints_pb2
        return BatchLine(r.index, checkpoints_pb2.BatchOutcome.Name(r.outcome).replace("BATCH_OUTCOME_", ""),
                         r.message, Proposal.of(r.proposal) if r.HasField("proposal") else None,
                         Checkpoint.of(r.checkpoint) if r.HasField("checkpoint") else None, r.progress.received,
                         r.progress.committed, r.progress.failed,
                         [(v.field, v.description) for v in r.bad_request.field_violations], r)


@dataclass(frozen=True)
class Comparison:
    """One prompt on two checkpoints: each side's top tokens, KL(a || b) in nats, and whether the top-1 is the same."""
    prompt: str
    top_a: List[Candidate]
    top_b: List[Candidate]
    kl: float
    same_top1: bool

    @staticmethod
    def of(p) -> "Comparison":
        return Comparison(p.prompt, [Candidate.of(c) for c in p.top_a], [Candidate.of(c) for c in p.top_b], p.kl,
                          p.same_top1)


@dataclass(frozen=True)
class Diff:
    """The weights that differ between two checkpoints of one model."""
    model: str
    source: str
    target: str
    vectors: int
    parameters_changed: int
    norm: float
    raw: Any = field(repr=False, compare=False, default=None)

    @staticmethod
    def of(r) -> "Diff":
        return Diff(r.model, getattr(r, "from"), r.to, len(r.vectors), r.parameters_changed, r.norm, r)


@dataclass(frozen=True)
class Export:
    """A checkpoint written in the Hugging Face layout under the server's export directory."""
    model: str
    checkpoint: str
    directory: str
    files: List[str]
    bytes: int

    @staticmethod
    def of(r) -> "Export":
        return Export(r.model.name, r.model.checkpoint, r.directory, list(r.files), r.bytes)


@dataclass(frozen=True)
class StoreFinding:
    """One thing a store check found: ``problem`` (MISSING_FILES, WRONG_CONTENT, WRONG_HEAD, ORPHAN, HALF_STAGED or
    IN_FLIGHT), ``path`` under the store, and whether it ``fails`` the check (all but IN_FLIGHT)."""
    problem: str
    path: str
    detail: str
    fails: bool


@dataclass(frozen=True)
class StoreCheck:
    """The server's store checked against its ledger: ``clean`` when no finding fails."""
    clean: bool
    checkpoints: int
    heads: int
    findings: List[StoreFinding]

    @staticmethod
    def of(r) -> "StoreCheck":
        return StoreCheck(r.clean, r.checkpoints, r.heads,
                          [StoreFinding(f.problem, f.path, f.detail, f.fails) for f in r.findings])


@dataclass(frozen=True)
class Backup:
    """A backup of the store (ledger and checkpoint files) under the server's backup directory."""
    directory: str
    checkpoints: int
    heads: int
    files: int
    bytes: int

    @staticmethod
    def of(r) -> "Backup":
        return Backup(r.directory, r.checkpoints, r.heads, r.files, r.bytes)


def to_dict(result) -> Dict[str, Any]:
    """A result as plain dicts and lists (the ``raw`` protos left out at every level)."""
    if is_dataclass(result):
        return {f.name: to_dict(getattr(result, f.name)) for f in fields(result) if f.name != "raw"}
    if isinstance(result, (list, tuple)):
        return [to_dict(x) for x in result]
    return result


def to_frame(results):
    """Results of one kind (a list of dataclasses, say the BatchLines of a batch) as a pandas DataFrame, one row each,
    nested values flattened with dots (pandas is optional: ``pip install engram-client[pandas]``)."""
    import pandas
    return pandas.json_normalize([to_dict(r) for r in results])
