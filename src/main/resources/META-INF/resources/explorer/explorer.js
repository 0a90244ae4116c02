// The neuron explorer: calls the server's JSON gateway (/api/v1/<Service>/<Method>, proto JSON), which forwards each
// call to gRPC with the token given here. Text from the server goes in as text; only the server's SVG charts
// (escaped where they hold tokens) go in as markup.
"use strict";

const $ = (id) => document.getElementById(id);

async function rpc(method, body) {
  const headers = { "Content-Type": "application/json" };
  const token = $("token").value.trim();
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch("/api/v1/" + method, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(json.code + ": " + json.message);
  return json;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// A token as text that shows what it is: spaces as "·", line breaks as "⏎", tabs as "⇥", a token with no text (a
// beginning-of-text token) as "∅"; the exact text in its title.
function visible(t) {
  const s = String(t ?? "");
  return s === "" ? "\u2205" : s.replace(/ /g, "\u00b7").replace(/\n/g, "\u23ce").replace(/\t/g, "\u21e5");
}

function chip(t) {
  const span = el("span", visible(t), "tok");
  span.title = JSON.stringify(t);
  return span;
}

function tokens(list) {
  const span = el("span");
  (list || []).forEach((t) => span.appendChild(chip(t)));
  return span;
}

// GATE_EFFICACY -> efficacy
function gateName(g) {
  return String(g).replace(/^GATE_/, "").toLowerCase();
}

function status(id, text, error) {
  $(id).textContent = text;
  $(id).className = "status" + (error ? " error" : "");
}

function modelRef() {
  return { name: $("model").value, checkpoint: $("checkpoint").value.trim() };
}

function neuronName(n) {
  if (n.ffn) return `L${n.ffn.layer ?? 0} FFN ${n.ffn.index ?? 0}`;
  const a = n.attention || {};
  return `L${a.layer ?? 0} H${a.head ?? 0} d${a.dim ?? 0} ← ${JSON.stringify(a.source_token ?? "")}`;
}

function fixed(x, digits) {
  return (x ?? 0).toFixed(digits);
}

async function loadModels() {
  const r = await rpc("ModelService/ListModels", {});
  for (const m of r.models || []) {
    const option = el("option", m.name);
    option.value = m.name;
    if (m.is_default) option.selected = true;
    $("model").appendChild(option);
  }
}

function showNeuron(n, row) {
  document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const d = $("neuron-detail");
  d.replaceChildren();
  d.appendChild(el("h3", neuronName(n)));
  const facts = [["position", n.position ?? 0], ["score (log-prob increase)", fixed(n.score, 4)],
    ["coefficient", fixed(n.coefficient, 4)], ["target's rank in its projection", n.target_rank ?? "—"]];
  const table = el("table");
  for (const [k, v] of facts) {
    const tr = el("tr");
    tr.appendChild(el("th", k));
    tr.appendChild(el("td", String(v)));
    table.appendChild(tr);
  }
  d.appendChild(table);
  d.appendChild(el("h3", "vocabulary projection: the tokens the vector it adds promotes most"));
  const ol = el("ol", undefined, "projection");
  (n.top_tokens || []).forEach((t) => { const li = el("li"); li.appendChild(chip(t)); ol.appendChild(li); });
  d.appendChild(ol);
}

function fillNeurons(tableId, neurons) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren();
  for (const n of neurons || []) {
    const tr = el("tr", undefined, "neuron");
    tr.appendChild(el("td", neuronName(n)));
    tr.appendChild(el("td", fixed(n.score, 3)));
    tr.appendChild(el("td", fixed(n.coefficient, 3)));
    const td = el("td");
    td.appendChild(tokens((n.top_tokens || []).slice(0, 5)));
    tr.appendChild(td);
    tr.addEventListener("click", () => showNeuron(n, tr));
    body.appendChild(tr);
  }
}

async function locate(event) {
  if (event) event.preventDefault();
  status("locate-status", "locating…");
  try {
    const r = await rpc("AttributionService/LocateFact", {
      model: modelRef(), prompt: $("prompt").value, target: $("target").value,
      top_k: Number($("top-k").value), options: { render_charts: true } });
    const t = (r.targets || [])[0] || {};
    const read = await rpc("ModelService/Tokenize", { model: modelRef(), text: $("prompt").value });
    $("prompt-tokens").replaceChildren(tokens(read.tokens));
    $("target-summary").textContent = `${r.model.name} @ ${r.model.checkpoint}: target ${JSON.stringify(t.token)}, ` +
      `log p = ${fixed(t.log_prob, 3)}, gain over the embedding ${fixed(t.log_prob_gain, 3)}`;
    $("layer-chart").innerHTML = (r.charts || {}).layer_scores_svg || "";
    $("head-heatmap").innerHTML = (r.charts || {}).head_heatmap_svg || "";
    $("locate-result").hidden = false;
    const chart = $("layer-chart").querySelector("svg");
    // the width the chart is drawn at, for the browser test: its labels are legible only at the size the server drew
    if (chart) document.body.dataset.chartWidth = String(Math.round(chart.getBoundingClientRect().width));
    fillNeurons("value-neurons", t.value_neurons);
    fillNeurons("query-neurons", t.query_neurons);
    $("edit-prompt").value = $("prompt").value;
    status("locate-status", `located ${(t.value_neurons || []).length} value and ${(t.query_neurons || []).length} query neurons`);
  } catch (e) {
    status("locate-status", e.message, true);
  }
}

function reportTable(rows, header) {
  const table = el("table");
  const head = el("tr");
  header.forEach((h) => head.appendChild(el("th", h)));
  table.appendChild(head);
  rows.forEach((cells) => {
    const tr = el("tr");
    cells.forEach((c) => tr.appendChild(c instanceof Node ? (() => { const td = el("td"); td.appendChild(c); return td; })() : el("td", String(c))));
    table.appendChild(tr);
  });
  return table;
}

function promptRow(p) {
  return [p.prompt, fixed(p.new_probability_before, 4) + " → " + fixed(p.new_probability, 4),
    fixed(p.true_probability_before, 4) + " → " + fixed(p.true_probability, 4), fixed(p.kl, 4),
    el("span", p.success ? "yes" : "no", p.success ? "pass" : "fail")];
}

// The edit the form describes, as an EditRequest in proto JSON.
function editRequest() {
  const paraphrases = $("paraphrases").value.split("|").map((s) => s.trim()).filter((s) => s);
  const edit = { model: modelRef(), prompt: $("edit-prompt").value, target_new: $("target-new").value, paraphrases };
  const subject = $("subject").value.trim();
  if (subject) {
    // the server takes a subject with its template: the prompt with {} where the subject is
    if (!edit.prompt.includes(subject)) throw new Error(`subject ${JSON.stringify(subject)} is not in the prompt`);
    edit.template = edit.prompt.replace(subject, "{}");
    edit.subject = subject;
    delete edit.prompt;
  }
  if ($("method").value) edit.options = { method: $("method").value };
  return edit;
}

let lineageLoad = Promise.resolve(); // the lineage being loaded after a model switch
let proposed = null; // the request of the last proposal that passed: what Commit sends

async function propose(event) {
  event.preventDefault();
  status("edit-status", "locating, editing and verifying…");
  $("commit").disabled = true;
  proposed = null;
  try {
    const request = editRequest();
    const r = await rpc("EditService/ProposeEdit", { edit: request });
    const rep = r.report || {};
    const out = $("gate-report");
    out.replaceChildren();
    const verdict = el("p", rep.passed ? "PASSED every gate (a dry run: nothing was committed)"
      : "REFUSED by " + (rep.failed_gates || []).map(gateName).join(", "), rep.passed ? "pass" : "fail");
    verdict.id = "verdict";
    out.appendChild(verdict);
    out.appendChild(el("p", `${JSON.stringify(r.target_true)} → ${JSON.stringify(r.target_new)} by ` +
      `${String(r.delta.method || "").replace(/^EDIT_METHOD_/, "").toLowerCase()}; ` +
      `${r.delta.parameters_touched} parameters` +
      ((r.delta.vectors || []).length ? ` in ${r.delta.vectors.length} vectors` : "") + ", " +
      `‖Δ‖ ${fixed(r.delta.norm, 3)}, ${r.timings.total_ms} ms`));
    out.appendChild(reportTable((rep.gates || []).map((g) => [gateName(g.gate), el("span", g.passed ? "passed" : "failed",
      g.passed ? "pass" : "fail"), g.detail || ""]), ["gate", "", "detail"]));
    const prompts = [rep.efficacy, ...(rep.paraphrases || []), ...(rep.neighbours || []),
      ...(rep.same_object_neighbours || []), ...(rep.relation_neighbours || [])].filter((p) => p);
    out.appendChild(reportTable(prompts.map(promptRow), ["prompt", "P(new) before → after",
      "P(true) before → after", "KL", "success"]));
    if (rep.passed) {
      proposed = request;
      $("commit").disabled = false;
    }
    status("edit-status", rep.passed ? "a dry run: Commit writes it as the new head" : "");
  } catch (e) {
    status("edit-status", e.message, true);
  }
}

async function commit() {
  if (!proposed) return;
  status("edit-status", "verifying again and committing…");
  $("commit").disabled = true;
  try {
    const r = await rpc("EditService/ApplyEdit", { edit: proposed });
    status("edit-status", `committed ${r.checkpoint.id.slice(0, 12)} on ${r.checkpoint.model}, the new head`);
    $("verdict").textContent = `PASSED every gate, and committed as ${r.checkpoint.id.slice(0, 12)}`;
    proposed = null;
    await lineage();
  } catch (e) {
    status("edit-status", e.message, true);
  }
}

async function rollback(to) {
  status("lineage-status", `rolling back to ${to}…`);
  try {
    const r = await rpc("EditService/Rollback", { model: $("model").value, to });
    status("lineage-status", `head ${(r.previous_head || "").slice(0, 12)} → ${r.head.slice(0, 12)}`);
    await lineage();
  } catch (e) {
    status("lineage-status", e.message, true);
  }
}

async function lineage() {
  const model = $("model").value;
  const r = await rpc("EditService/ListCheckpoints", { model });
  $("checkpoint-detail").replaceChildren();
  $("lineage-head").textContent = !r.head || r.head === "base"
    ? `${model}: the head is the base model (no edit applied)` : `${model}: the head is ${r.head.slice(0, 12)}`;
  $("lineage-head").dataset.head = r.head || "base";
  const body = $("lineage").querySelector("tbody");
  body.replaceChildren();
  for (const c of r.checkpoints || []) {
    const tr = el("tr");
    [c.is_head ? "head" : "", c.id.slice(0, 12), (c.parent_id || "").slice(0, 12)].forEach((x) => tr.appendChild(el("td", String(x))));
    const edit = el("td");
    edit.append(el("span", c.prompt || ""), " ", chip(c.target_new || ""));
    tr.appendChild(edit);
    [c.parameters_touched ?? 0, c.created_at].forEach((x) => tr.appendChild(el("td", String(x))));
    const action = el("td");
    if (!c.is_head) {
      const back = el("button", "roll back here");
      back.addEventListener("click", (e) => { e.stopPropagation(); rollback(c.id); });
      action.appendChild(back);
    }
    tr.appendChild(action);
    tr.addEventListener("click", () => showCheckpoint(model, c, tr));
    body.appendChild(tr);
  }
  if (!(r.checkpoints || []).length) body.appendChild(el("tr")).appendChild(el("td", "no edits yet"));
}

async function showCheckpoint(model, c, row) {
  document.querySelectorAll("#lineage tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const d = $("checkpoint-detail");
  d.replaceChildren(el("p", "loading…"));
  try {
    const diff = await rpc("EditService/Diff", { model, from: "base", to: c.id });
    const prompts = [c.prompt, $("prompt").value].filter((p, i, a) => p && a.indexOf(p) === i);
    const cmp = await rpc("EditService/Compare", { model, checkpoint_a: "base", checkpoint_b: c.id, prompts, top_k: 3 });
    d.replaceChildren(el("h3", `base → ${c.id.slice(0, 12)}: ${diff.parameters_changed} parameters, ‖Δ‖ ${fixed(diff.norm, 3)}`));
    d.appendChild(reportTable((diff.vectors || []).map((v) => [v.matrix, v.layer ?? 0, v.index ?? 0,
      fixed(v.delta_norm, 4), fixed(v.base_norm, 4)]), ["matrix", "layer", "row", "‖Δ‖", "‖base‖"]));
    d.appendChild(reportTable((cmp.prompts || []).map((p) => [p.prompt,
      tokens((p.top_a || []).map((t) => `${t.text} ${fixed(t.probability, 3)}`)),
      tokens((p.top_b || []).map((t) => `${t.text} ${fixed(t.probability, 3)}`)), fixed(p.kl, 4)]),
      ["prompt", "base", c.id.slice(0, 12), "KL"]));
  } catch (e) {
    d.replaceChildren(el("p", e.message, "status error"));
  }
}

window.addEventListener("DOMContentLoaded", async () => {
  $("locate-form").addEventListener("submit", locate);
  $("edit-form").addEventListener("submit", propose);
  $("commit").addEventListener("click", commit);
  $("rollback-base").addEventListener("click", () => rollback("base"));
  $("lineage-refresh").addEventListener("click", () => lineage().catch((e) => status("lineage-status", e.message, true)));
  // another model: its own lineage at once
  $("model").addEventListener("change", () => {
    lineageLoad = lineage().catch((e) => status("lineage-status", e.message, true));
  });
  // ?prompt=...&target=...&model=... fills the form and locates at once (links, and the browser test)
  const query = new URLSearchParams(location.search);
  try {
    await loadModels();
    if (query.get("model")) $("model").value = query.get("model");
    await lineage();
  } catch (e) {
    status("locate-status", e.message, true);
  }
  if (query.get("prompt")) {
    $("prompt").value = query.get("prompt");
    $("target").value = query.get("target") || "";
    await locate();
    const first = document.querySelector("#value-neurons tbody tr");
    if (first) first.click();
  }
  // ...&target_new=...&method=... then proposes that edit of the prompt (a dry run)
  if (query.get("target_new")) {
    $("target-new").value = query.get("target_new");
    if (query.get("subject")) $("subject").value = query.get("subject");
    if (query.get("method")) $("method").value = query.get("method");
    await propose(new Event("submit"));
    // ...&commit=true then commits it, as the Commit button does
    if (query.get("commit") === "true") await commit();
  }
  // ...&switch_to=<model> then switches the model as the select does (the browser test of a model switch)
  if (query.get("switch_to")) {
    $("model").value = query.get("switch_to");
    $("model").dispatchEvent(new Event("change"));
    await lineageLoad;
  }
  // ...&rollback=<base or id> then rolls the model back, as the buttons do
  if (query.get("rollback")) await rollback(query.get("rollback"));
  document.body.dataset.ready = "true";
});
