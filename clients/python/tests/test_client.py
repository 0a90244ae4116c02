"""engram_client against a real Engram server that these tests start (the packaged jar, stories260K, a fresh store)."""
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import pytest

from engram_client import Engram, EngramError, to_dict, to_frame
from engram_client.results import BatchLine, Location, NeuronScore, Proposal

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "editing" / "stories260K-examples.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def engram():
    jar = REPO / "target" / "quarkus-app" / "quarkus-run.jar"
    assert jar.is_file(), f"{jar} is missing: mvn -B package -DskipTests"
    models = Path(os.environ.get("SHARED_MODELS_DIR", REPO.parent / "shared" / "models")).resolve()
    port = free_port()
    store = tempfile.mkdtemp(prefix="engram-python-")
    env = dict(os.environ, ENGRAM_PORT=str(port), ENGRAM_HTTP_PORT=str(free_port()), ENGRAM_STORE_DIR=store,
               ENGRAM_EXPORT_DIR=str(Path(store) / "exports"), ENGRAM_BACKUP_DIR=str(Path(store) / "backups"),
               ENGRAM_DEFAULT_MODEL="stories260K", ENGRAM_STORIES260K_PATH=str(models / "stories260K"))
    log = open(Path(store) / "server.log", "w")
    server = subprocess.Popen(["java", "-Dai.djl.offline=true", "-jar", str(jar)], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    client = Engram(f"localhost:{port}", timeout=300)
    try:
        deadline = time.time() + 180
        while True:
            try:
                client.models()
                break
            except EngramError:
                assert server.poll() is None, (Path(store) / "server.log").read_text()
                assert time.time() < deadline, "the server did not come up"
                time.sleep(1)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(30)
        log.close()


def example(index: int) -> dict:
    return json.loads(EXAMPLES.read_text().splitlines()[index])


def destructive(index: int = 0) -> dict:
    """An example edit with the destructive options of EditServiceGrpcTest: the specificity gate refuses it."""
    return dict(example(index), options={"method": "EDIT_METHOD_LEARNED", "neuron_budget": 400,
                                         "neuron_kinds": ["NEURON_KIND_FFN", "NEURON_KIND_ATTENTION"],
                                         "learning_rate": 2.0, "steps": 3, "stop_probability": 1.0})


def test_the_package_is_typed_and_installed_from_its_own_build():
    import engram_client
    package = Path(engram_client.__file__).parent
    assert (package / "py.typed").is_file()
    assert "site-packages" in str(package), f"the installed package, not the source: {package}"


def test_locate_names_the_neurons_behind_the_answer(engram):
    r = engram.locate("Once upon a", " time", top_k=3)
    assert isinstance(r, Location) and r.model == "stories260K"
    target = r.targets[0]
    assert target.token == " time"
    assert len(target.value_neurons) == 3 and all(isinstance(n, NeuronScore) for n in target.value_neurons)
    assert target.value_neurons[0].score >= target.value_neurons[1].score >= target.value_neurons[2].score
    first = target.value_neurons[0]
    assert first.name.startswith(f"L{first.layer} ")
    heads = target.heads_array()
    assert heads.shape[0] == len(target.layers) and heads.shape[1] >= 1


def test_locate_facts_reports_progress_and_keeps_the_order(engram):
    seen = []
    results = engram.locate_facts([("Once upon a", " time"), {"prompt": "The dog wagged its", "target": " t"}],
                                  top_k=2, on_progress=lambda done, total: seen.append((done, total)))
    assert [r.targets[0].token for r in results] == [" time", " t"]
    assert seen[-1] == (2, 2)


def test_tokenize_gives_the_ids_predict_reads(engram):
    t = engram.tokenize("Once upon a time,\nthere")
    assert len(t.ids) == len(t.tokens) and "".join(t.tokens).strip() == "Once upon a time,\nthere"
    assert t.ids == engram.predict("Once upon a time,\nthere").prompt_token_ids


def test_activations_come_as_numpy_arrays_by_hook_name(engram):
    acts = engram.activations("Once upon a time", ["blocks.1.hook_resid_post", "blocks.2.hook_resid_pre",
                                                    "blocks.0.attn.hook_pattern"], positions=[0, -1])
    assert acts["blocks.1.hook_resid_post"].shape[0] == 2
    assert (acts["blocks.1.hook_resid_post"] == acts["blocks.2.hook_resid_pre"]).all()
    pattern = acts["blocks.0.attn.hook_pattern"]
    assert engram.activation_axes("blocks.0.attn.hook_pattern") == ["head", "query", "source"]
    assert abs(pattern.sum(axis=-1) - 1).max() < 1e-5


def test_predict_defaults_and_generate_streams_text(engram):
    p = engram.predict("Once upon a")
    assert len(p.candidates) == 10 and p.candidates[0].text == " time"
    pieces = list(engram.generate("Once upon a", max_new_tokens=5))
    assert len(pieces) == 5 and "".join(pieces).startswith(" time")


def test_propose_is_a_dry_run_and_apply_commits_then_diff_export_rollback(engram):
    edit = dict(example(0), options={"method": "EDIT_METHOD_CLOSED_FORM"})
    proposal = engram.propose(edit)
    assert isinstance(proposal, Proposal) and proposal.passed, proposal.report.failed_gates
    assert proposal.report.es == 1.0 and proposal.report.failed_gates == []
    assert all(isinstance(g.gate, str) and g.passed for g in proposal.report.gates)
    assert proposal.delta.method == "CLOSED_FORM" and proposal.delta.parameters_touched > 0
    assert len(engram.checkpoints().checkpoints) == 0, "a proposal commits nothing"

    committed = engram.apply(edit)
    lineage = engram.checkpoints()
    assert lineage.head == committed.checkpoint.id and lineage.checkpoints[0].is_head
    assert engram.checkpoint(committed.checkpoint.id).target_new == " Sue"
    diff = engram.diff()
    assert diff.parameters_changed == committed.proposal.delta.parameters_touched
    with pytest.raises(EngramError) as export:  # llama2.c's tokenizer has no Hugging Face form: a clear refusal
        engram.export()
    assert export.value.code == grpc.StatusCode.FAILED_PRECONDITION and "tokenizer" in export.value.message
    comparison = engram.compare([edit["prompt"]])[0]
    assert comparison.top_a[0].text == " Lily" and not comparison.same_top1

    assert engram.rollback("base") == "base"
    assert engram.predict(edit["prompt"], top_k=1).candidates[0].text == " Lily"

    check = engram.verify_store()
    assert check.clean and check.checkpoints == 1 and check.findings == [], check
    backup = engram.backup_store("nightly")
    assert backup.directory == "nightly" and backup.checkpoints == 1 and backup.files >= 6, backup
    with pytest.raises(EngramError) as taken:
        engram.backup_store("nightly")
    assert taken.value.code == grpc.StatusCode.ALREADY_EXISTS and "nightly" in taken.value.message


def test_batch_yields_one_line_per_edit_and_becomes_a_frame(engram):
    edits = [dict(example(i), options={"method": "EDIT_METHOD_CLOSED_FORM"}) for i in range(3)] + [destructive(1)]
    lines = list(engram.batch(edits))
    assert [line.index for line in lines] == [0, 1, 2, 3] and all(isinstance(x, BatchLine) for x in lines)
    assert lines[-1].received == 4
    assert lines[-1].committed == sum(1 for x in lines if x.outcome == "COMMITTED") >= 1
    assert lines[3].outcome == "GATE_FAILED" and "SPECIFICITY" in lines[3].proposal.report.failed_gates
    frame = to_frame(lines)
    assert list(frame["outcome"]) == [x.outcome for x in lines]
    assert "proposal.report.passed" in frame.columns
    engram.rollback("base")


def test_edit_has_easyedits_shape(engram):
    out = engram.edit(prompts="Once upon a time, there was a little girl named", target_new=" Sue",
                      ground_truth=" Lily", rephrase_prompts="One day, a little girl named",
                      locality_inputs={"neighborhood": {"prompt": ["Once upon a"], "ground_truth": [" time"]}},
                      method="closed_form")
    assert len(out) == 1
    case = out[0]
    assert case["pre"]["rewrite_acc"] == [0.0] and case["post"]["rewrite_acc"] == [1.0]
    assert "rephrase_acc" in case["post"] and case["post"]["locality"]["neighborhood_acc"][0] in (0.0, 1.0)
    assert case["checkpoint"] is None, "edit() proposes unless asked to commit"
    assert json.dumps(to_dict(engram.propose(example(0), method="closed_form").report))
    with_subject = engram.edit(prompts="Once upon a time, there was a little girl named", target_new=" Sue",
                               subject="girl", method="closed_form")[0]
    assert with_subject["requested_rewrite"]["subject"] == "girl" and with_subject["post"]["rewrite_acc"] == [1.0]


def test_a_refused_apply_carries_its_report_and_bad_input_its_fields(engram):
    with pytest.raises(EngramError) as refused:
        engram.apply(destructive())
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.report is not None and "SPECIFICITY" in refused.value.report.failed_gates
    assert refused.value.report.passed is False
    with pytest.raises(EngramError) as error:
        engram.propose(prompt="Once upon a", target_new=" ")
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.message.startswith("target_new")
    assert error.value.bad_request and error.value.bad_request[0][0] == "target_new"
    with pytest.raises(EngramError) as missing:
        engram.checkpoints("no-such-model")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ValueError):
        engram.propose(example(0), method="nope")
    with pytest.raises(TypeError, match="target_nwe"):
        engram.propose(prompt="Once upon a", target_nwe=" dog")
