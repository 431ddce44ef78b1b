// The player page: the bearer token travels in the URL fragment (#token=…), which browsers never send to
// a server, so it reaches neither our logs nor any proxy's. The audio plays through the call's
// playbackUrl, which carries its own short-lived token bound to this call, and seeks with HTTP Range.
import { mountTranscript, sameOrigin, utterancesOf } from "/assets/transcript.js";

const callId = decodeURIComponent(location.pathname.split("/").pop());
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const status = document.getElementById("status");
const fail = (text) => { status.textContent = text; status.className = "error"; };

async function load() {
  if (!token) return fail("Open this page with #token=<bearer token> at the end of its address.");
  let body;
  try {
    const response = await fetch(`/api/calls/${encodeURIComponent(callId)}/recording`,
      { headers: { Authorization: `Bearer ${token}` } });
    body = await response.json();
    if (!response.ok) return fail(body.code === "RECORDING_NOT_READY"
      ? "The recording is not ready yet; try again in a minute." : (body.error || "Could not load the call."));
  } catch (error) {
    return fail("Could not reach the service.");
  }
  const audio = document.getElementById("audio");
  audio.src = sameOrigin(body.playbackUrl);
  const parts = [body.direction, body.from && `from ${body.from}`, body.to && `to ${body.to}`,
    body.duration && `${Math.round(body.duration)} s`].filter(Boolean);
  document.getElementById("meta").textContent = parts.join(" · ");
  const items = mountTranscript(document.getElementById("transcript"), audio, utterancesOf(body.transcriptionData));
  status.textContent = items.length ? "" : (body.transcriptionText || `Transcript: ${body.transcriptionStatus}`);
}

load();
