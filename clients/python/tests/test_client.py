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

from engram_client import Engram, EngramError

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


def test_locate_names_the_neurons_behind_the_answer(engram):
    r = engram.locate("Once upon a", " time", top_k=3)
    assert r.model.name == "stories260K"
    target = r.targets[0]
    assert target.token == " time"
    assert len(target.value_neurons) == 3
    assert target.value_neurons[0].score >= target.value_neurons[1].score >= target.value_neurons[2].score


def test_propose_is_a_dry_run_and_apply_commits_then_rollback_undoes(engram):
    edit = dict(example(0), options={"method": "EDIT_METHOD_CLOSED_FORM"})
    proposal = engram.propose(edit)
    assert proposal.report.passed, proposal.report
    assert proposal.report.efficacy.new_probability > proposal.report.efficacy.true_probability
    assert len(engram.checkpoints().checkpoints) == 0, "a proposal commits nothing"

    applied = engram.apply(edit)
    listing = engram.checkpoints()
    assert listing.head == applied.checkpoint.id
    comparison = engram.compare([edit["prompt"]])
    assert comparison.prompts[0].top_a[0].text == " Lily"
    assert not comparison.prompts[0].same_top1

    assert engram.rollback("base").head == "base"
    assert engram.predict(edit["prompt"], top_k=1).candidates[0].text == " Lily"


def test_batch_yields_one_outcome_per_edit(engram):
    edits = [dict(example(i), options={"method": "EDIT_METHOD_CLOSED_FORM"}) for i in range(3)]
    results = list(engram.batch(edits))
    assert [r.index for r in results] == [0, 1, 2]
    assert results[-1].progress.received == 3
    assert results[-1].progress.committed == sum(1 for r in results if r.HasField("checkpoint")) >= 1
    engram.rollback("base")


def test_bad_input_raises_with_the_status_code(engram):
    with pytest.raises(EngramError) as error:
        engram.propose(prompt="Once upon a", target_new=" ")
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.message.startswith("target_new")
    with pytest.raises(EngramError) as missing:
        engram.checkpoints("no-such-model")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND
