// A transcript beside its audio, shared by the player and the console: one row per utterance, a click
// (or Enter / Space on the focused row) seeks there, and the utterance being spoken is highlighted.

export function formatTime(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// Our utterances: {role, message, timestamp}; anything else in transcriptionData is not listed.
export function utterancesOf(data) {
  return Array.isArray(data) ? data.filter((u) => u && typeof u.timestamp === "number") : [];
}

export function mountTranscript(list, audio, utterances) {
  list.replaceChildren();
  const items = utterances.map((u, index) => {
    const item = document.createElement("li");
    item.dataset.index = index;
    item.dataset.start = u.timestamp;
    item.tabIndex = 0;
    item.setAttribute("role", "button");
    item.setAttribute("aria-label", `${formatTime(u.timestamp)} ${u.role}: ${u.message}`);
    const time = document.createElement("span");
    time.className = "time";
    time.textContent = formatTime(u.timestamp);
    const role = document.createElement("span");
    role.className = "role";
    role.textContent = u.role;
    const message = document.createElement("span");
    message.textContent = u.message;
    item.append(time, role, message);
    const seek = () => { audio.currentTime = u.timestamp; audio.play().catch(() => {}); };
    item.addEventListener("click", seek);
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(); }
    });
    list.append(item);
    return item;
  });
  // The utterance being spoken: the last one that started at or before the playhead.
  let active = null;
  const highlight = () => {
    let current = null;
    for (const item of items) if (Number(item.dataset.start) <= audio.currentTime + 0.05) current = item;
    if (current === active) return;
    if (active) active.classList.remove("active");
    if (current) { current.classList.add("active"); current.scrollIntoView({ block: "nearest" }); }
    active = current;
  };
  // Properties, not listeners: mounting another transcript on the same player replaces these.
  audio.ontimeupdate = highlight;
  audio.onseeked = highlight;
  return items;
}

// The playback URL on this page's own origin, whatever host name the service's public URL uses.
export function sameOrigin(url) {
  const resolved = new URL(url, location.href);
  return resolved.pathname + resolved.search;
}
