"""Locate the neurons behind an answer, propose an edit, and show the gate's report.

    pip install ./clients/python
    python clients/python/examples/edit_a_fact.py    # against the server of the README (SmolLM2 on localhost:9000)

ENGRAM_ADDRESS and ENGRAM_TOKEN override where it connects and who it says it is.
"""
import os

from engram_client import Engram


def score(value):
    """A score the server measured, or n/a: None means it was not measured (never a success)."""
    return "n/a" if value is None else f"{value:.2f}"


prompt, true, new = "The capital of France is", " Paris", " Rome"
with Engram(os.environ.get("ENGRAM_ADDRESS", "localhost:9000"), os.environ.get("ENGRAM_TOKEN")) as engram:
    located = engram.locate(prompt, true, top_k=5)
    target = located.targets[0]
    print(f"{located.model}: log p({true!r} | {prompt!r}) = {target.log_prob:.3f}")
    for n in target.value_neurons:
        print(f"  {n.name:<16} score {n.score:+.3f}  top tokens {n.top_tokens[:5]}")

    proposal = engram.propose(subject="France", template="The capital of {} is", target_new=new, target_true=true,
                              paraphrases=["The capital city of France is", "France's capital city is"],
                              neighbours={"The capital of Germany is": " Berlin", "The capital of Spain is": " Madrid"})
    report = proposal.report
    verdict = "passed" if report.passed else f"refused ({', '.join(report.failed_gates)})"
    print(f"proposed {prompt!r} -> {new!r} with {proposal.delta.method}: {verdict}")
    print(f"  P(new) {report.efficacy.new_probability:.3f}  P(true) {report.efficacy.true_probability:.3f}  "
          f"PS {score(report.ps)}  NB (given neighbours) {score(report.neighbourhood_score)}  "
          f"NS (same-object, found by the gate) {score(report.ns)} ({len(report.same_object_neighbours)} found)  "
          f"RS {score(report.relation_score)} ({len(report.relation_neighbours)} found)  "
          f"{proposal.delta.parameters_touched} parameters touched, {proposal.total_ms} ms")
