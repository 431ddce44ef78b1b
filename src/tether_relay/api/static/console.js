// The console: sign in with a bearer token, list and filter the organisation's calls, search what was
// said, open a call to play it (seeking to the utterance a search matched), and, for admins, delete its
// recording. The token lives in this module's memory only: never in storage, never in a query string.
import { formatTime, mountTranscript, sameOrigin, utterancesOf } from "/assets/transcript.js";

const PAGE = 25;
const ADMINS = new Set(["ADMIN", "SUPERADMIN"]);
const $ = (id) => document.getElementById(id);
const state = { token: null, role: null, offset: 0, q: "", callId: null };

// --- the API -----------------------------------------------------------------------------------------

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: { Authorization: `Bearer ${state.token}` } });
  } catch (error) {
    return { status: 0, body: { error: "Could not reach the service." } };
  }
  let body = {};
  try { body = await response.json(); } catch (error) { body = {}; }
  if (response.status === 401 && state.token) signOut("Your token was refused or has expired: sign in again.");
  return { status: response.status, body };
}

const message = (body) => (typeof body.error === "string" ? body.error : body.error?.message) || "Something went wrong.";

// The token's claims, for what to show (the service checks every request itself).
function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch (error) {
    return {};
  }
}

// --- signing in and out --------------------------------------------------------------------------------

function show(section) {
  for (const id of ["signin", "calls", "call"]) $(id).hidden = id !== section;
}

async function signIn(token) {
  state.token = token.trim();
  const check = await api("/api/calls/history?limit=1");
  if (check.status !== 200) {
    state.token = null;
    $("signin-error").textContent = check.status === 401
      ? "That token was refused (expired, or not signed for this service)." : message(check.body);
    return;
  }
  const said = claims(state.token);
  state.role = said.accessRole || null;
  $("identity").textContent = `${said.organizationId || ""} · ${state.role || "no role"}`;
  $("who").hidden = false;
  $("token").value = "";
  $("signin-error").textContent = "";
  await listCalls(0);
  $("q").focus();
}

function signOut(reason = "") {
  // Nothing of the last person's session stays on the page for the next one.
  Object.assign(state, { token: null, role: null, offset: 0, q: "", callId: null });
  const audio = $("audio");
  audio.pause();
  audio.onloadedmetadata = null;
  audio.removeAttribute("src");
  for (const id of ["results", "facts", "transcript", "receipt-facts"]) $(id).replaceChildren();
  for (const id of ["q", "status", "userId", "contactId", "since", "until"]) $(id).value = "";
  for (const id of ["summary", "call-status", "delete-error"]) $(id).textContent = "";
  $("who").hidden = true;
  $("signin-error").textContent = reason;
  show("signin");
  $("token").focus();
}

// --- the list: history or search ---------------------------------------------------------------------------

function filters() {
  const params = new URLSearchParams();
  for (const name of ["status", "userId", "contactId"]) if ($(name).value.trim()) params.set(name, $(name).value.trim());
  if ($("since").value) params.set("since", `${$("since").value}T00:00:00Z`);
  if ($("until").value) {  // the whole day it names
    const next = new Date(`${$("until").value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.set("until", next.toISOString());
  }
  return params;
}

async function listCalls(offset) {
  state.offset = offset;
  const params = filters();
  params.set("limit", PAGE);
  params.set("offset", offset);
  let answer;
  if (state.q) {
    params.set("q", state.q);
    answer = await api(`/api/calls/search?${params}`);
  } else {
    answer = await api(`/api/calls/history?${params}`);
  }
  show("calls");
  if (answer.status !== 200) {
    $("summary").textContent = message(answer.body);
    $("summary").className = "error";
    $("results").replaceChildren();
    return;
  }
  const body = answer.body;
  const hits = state.q ? body.hits : body.calls.map((call) => ({ call, matches: [] }));
  // Search ranks the newest matches and counts up to a cap: paging goes as far as it reaches.
  const reachable = state.q ? body.reachable : body.total;
  const total = `${body.total.toLocaleString()}${state.q && !body.totalExact ? "+" : ""}`;
  $("summary").className = "muted";
  $("summary").textContent = body.total === 0
    ? (state.q ? `Nothing found for “${state.q}”.` : "No calls yet.")
    : `${offset + 1}–${offset + hits.length} of ${total}${state.q ? ` for “${state.q}”` : ""}`;
  $("results").replaceChildren(...hits.map(hitItem));
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + hits.length >= reachable;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "no start time";
}

function hitItem(hit) {
  const call = hit.call;
  const item = document.createElement("li");
  item.dataset.callId = call.callId;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = [when(call.startTime), call.direction, call.from && call.to ? `${call.from} → ${call.to}` : call.from || call.to]
    .filter(Boolean).join(" · ");
  const detail = document.createElement("div");
  detail.className = "muted";
  detail.textContent = [call.status, call.duration != null && `${Math.round(call.duration)} s`, call.provider,
    call.summary].filter(Boolean).join(" · ");
  open.append(title, detail);
  open.addEventListener("click", () => openCall(call.callId, null));
  item.append(open);
  if (hit.matches.length) {
    const matches = document.createElement("div");
    matches.className = "matches";
    for (const match of hit.matches) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "match";
      button.dataset.timestamp = match.timestamp;
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = `${formatTime(match.timestamp)} ${match.role}: `;
      // A long message comes as an excerpt around its first match.
      if (match.excerptStart > 0) time.textContent += "…";
      button.append(time, ...marked(match.message, match.highlights));
      button.addEventListener("click", () => openCall(call.callId, match.timestamp));
      matches.append(button);
    }
    if (hit.matchCount > hit.matches.length) {
      const more = document.createElement("span");
      more.className = "muted";
      more.textContent = `and ${hit.matchCount - hit.matches.length} more`;
      matches.append(more);
    }
    item.append(matches);
  }
  return item;
}

// The message as text nodes with each highlight (code-point offsets) in a <mark>: nothing is parsed as HTML.
function marked(text, highlights) {
  const chars = Array.from(text);
  const nodes = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start > at) nodes.push(document.createTextNode(chars.slice(at, start).join("")));
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(start, end).join("");
    nodes.push(mark);
    at = end;
  }
  if (at < chars.length) nodes.push(document.createTextNode(chars.slice(at).join("")));
  return nodes;
}

// --- one call ------------------------------------------------------------------------------------------

function fact(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  const term = document.createElement("dt");
  term.textContent = name;
  const description = document.createElement("dd");
  description.textContent = value;
  list.append(term, description);
}

async function openCall(callId, seekTo) {
  state.callId = callId;
  show("call");
  const audio = $("audio");
  audio.pause();
  audio.onloadedmetadata = null;  // a seek asked for by the call opened before is not this call's
  audio.removeAttribute("src");
  $("transcript").replaceChildren();
  $("facts").replaceChildren();
  $("confirm").hidden = true;
  $("receipt").hidden = true;
  $("delete-error").textContent = "";
  $("call-status").textContent = "Loading…";
  $("admin").hidden = !ADMINS.has(state.role);
  $("delete").disabled = false;
  $("back").focus();
  const path = `/api/calls/${encodeURIComponent(callId)}`;
  const [details, recording] = await Promise.all([api(path), api(`${path}/recording`)]);
  if (state.callId !== callId) return;  // another call was opened meanwhile
  if (details.status !== 200) {
    $("call-status").textContent = message(details.body);
    return;
  }
  const call = details.body.call;
  $("call-title").textContent = `Call ${when(call.startTime)}`;
  const facts = $("facts");
  fact(facts, "Call id", call.callId);
  fact(facts, "Provider", `${call.provider} (${call.providerCallId})`);
  fact(facts, "Direction", call.direction);
  fact(facts, "From", call.from);
  fact(facts, "To", call.to);
  fact(facts, "Status", call.status);
  fact(facts, "Duration", call.duration != null ? `${Math.round(call.duration)} s` : null);
  fact(facts, "Agent", call.agentName);
  fact(facts, "User id", call.userId);
  fact(facts, "Contact id", call.contactId);
  fact(facts, "Summary", call.summary);
  if (recording.status !== 200) {
    const code = recording.body.code;
    $("call-status").textContent = code === "RECORDING_NOT_READY"
      ? "The recording is not ready yet; try again in a minute."
      : code === "RECORDING_DELETED" ? "This call's recording was deleted." : message(recording.body);
    $("delete").disabled = code === "RECORDING_DELETED";
    return;
  }
  const body = recording.body;
  audio.src = sameOrigin(body.playbackUrl);
  const items = mountTranscript($("transcript"), audio, utterancesOf(body.transcriptionData));
  $("call-status").textContent = items.length ? "" : (body.transcriptionText || `Transcript: ${body.transcriptionStatus}`);
  if (seekTo !== null) {
    const seek = () => { audio.onloadedmetadata = null; audio.currentTime = seekTo; };
    if (audio.readyState >= 1) seek(); else audio.onloadedmetadata = seek;
    const target = items.find((item) => Number(item.dataset.start) === seekTo);
    if (target) target.focus();
  }
}

async function deleteRecording() {
  $("confirm-delete").disabled = true;
  const answer = await api(`/api/calls/${encodeURIComponent(state.callId)}/recording`, { method: "DELETE" });
  $("confirm-delete").disabled = false;
  $("confirm").hidden = true;
  if (answer.status !== 200) {
    $("delete-error").textContent = answer.status === 403
      ? "Your role does not allow deleting recordings." : message(answer.body);
    return;
  }
  const receipt = answer.body;
  const list = $("receipt-facts");
  list.replaceChildren();
  fact(list, "Deleted at", receipt.deletedAt);
  fact(list, "Deleted by", receipt.deletedBy);
  fact(list, "Recordings", receipt.recordingIds.join(", ") || "none");
  fact(list, "Our copy", receipt.storedCopy);
  fact(list, "Provider's copy", receipt.providerCopy);
  fact(list, "Transcript", receipt.transcript);
  $("receipt").hidden = false;
  $("delete").disabled = true;
  const audio = $("audio");
  audio.pause();
  audio.removeAttribute("src");
  $("transcript").replaceChildren();
  $("call-status").textContent = "This call's recording was deleted.";
}

// --- wiring --------------------------------------------------------------------------------------------

$("signin-form").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value); });
$("signout").addEventListener("click", () => signOut());
$("search").addEventListener("submit", (event) => { event.preventDefault(); state.q = $("q").value.trim(); listCalls(0); });
for (const id of ["status", "since", "until"]) $(id).addEventListener("change", () => listCalls(0));
for (const id of ["userId", "contactId"]) $(id).addEventListener("change", () => listCalls(0));
$("clear").addEventListener("click", () => { state.q = ""; $("q").value = ""; listCalls(0); });
$("prev").addEventListener("click", () => listCalls(Math.max(0, state.offset - PAGE)));
$("next").addEventListener("click", () => listCalls(state.offset + PAGE));
$("back").addEventListener("click", () => {
  $("audio").pause();
  show("calls");
  const row = document.querySelector(`#results li[data-call-id="${CSS.escape(state.callId || "")}"] .open`);
  if (row) row.focus();
});
$("delete").addEventListener("click", () => { $("confirm").hidden = false; $("cancel-delete").focus(); });
$("cancel-delete").addEventListener("click", () => { $("confirm").hidden = true; $("delete").focus(); });
$("confirm").addEventListener("keydown", (event) => {
  if (event.key === "Escape") { $("confirm").hidden = true; $("delete").focus(); }
});
$("confirm-delete").addEventListener("click", deleteRecording);

// A link may carry the token in its fragment (development mode prints one): it is read, then removed
// from the address bar and the history, and kept in memory like a pasted one.
const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fragment) {
  history.replaceState(null, "", location.pathname + location.search);
  signIn(fragment);
} else {
  show("signin");
}
