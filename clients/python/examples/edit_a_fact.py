"""Locate the neurons behind an answer, propose an edit, and show the gate's report.

    pip install ./clients/python
    python clients/python/examples/edit_a_fact.py    # against the server of the README (SmolLM2 on localhost:9000)

ENGRAM_ADDRESS and ENGRAM_TOKEN override where it connects and who it says it is.
"""
import os

from engram.v1 import edit_pb2
from engram_client import Engram

prompt, true, new = "The capital of France is", " Paris", " Rome"
with Engram(os.environ.get("ENGRAM_ADDRESS", "localhost:9000"), os.environ.get("ENGRAM_TOKEN")) as engram:
    located = engram.locate(prompt, true, top_k=5)
    target = located.targets[0]
    print(f"{located.model.name}: log p({true!r} | {prompt!r}) = {target.log_prob:.3f}")
    for n in target.value_neurons:
        where = f"L{n.ffn.layer} FFN {n.ffn.index}" if n.HasField("ffn") else \
            f"L{n.attention.layer} H{n.attention.head} d{n.attention.dim}"
        print(f"  {where:<16} score {n.score:+.3f}  top tokens {list(n.top_tokens)[:5]}")

    proposal = engram.propose(prompt=prompt, target_new=new, target_true=true,
                              paraphrases=["The capital city of France is", "France's capital city is"],
                              neighbours=[{"prompt": "The capital of Germany is", "expected": " Berlin"},
                                          {"prompt": "The capital of Spain is", "expected": " Madrid"}],
                              options={"method": "EDIT_METHOD_CLOSED_FORM"})
    report = proposal.report

    def score(r, field):
        """A score the server measured, or n/a: an unset score was not measured (never a success)."""
        return f"{getattr(r, field):.2f}" if r.HasField(field) else "n/a"

    print(f"proposed {prompt!r} -> {new!r}: {'passed' if report.passed else 'refused'} the gate"
          + ("" if report.passed else f" ({', '.join(edit_pb2.Gate.Name(g).replace('GATE_', '') for g in report.failed_gates)})"))
    print(f"  P(new) {report.efficacy.new_probability:.3f}  P(true) {report.efficacy.true_probability:.3f}  "
          f"PS {score(report, 'paraphrase_score')}  NB (given neighbours) {score(report, 'neighbourhood_score')}  "
          f"same-object {score(report, 'same_object_score')} ({len(report.same_object_neighbours)} found)  "
          f"relation {score(report, 'relation_score')} ({len(report.relation_neighbours)} found)  "
          f"{proposal.delta.parameters_touched} parameters touched, {proposal.timings.total_ms} ms")
