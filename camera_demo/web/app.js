"use strict";
// The page: the MJPEG stream in an <img>, readings from server-sent events, freeze and snapshot.
const $ = (id) => document.getElementById(id);
let frozen = false;

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = "status " + kind;
}

function digitLabel(d) {
  const percent = Math.round(100 * d.confidence) + "%";
  return d.status === "ok" ? `${d.digit} ${percent}` : `? (${d.best_guess} ${percent})`;
}

function render(r) {
  $("source").textContent = r.source;
  $("shown").textContent = r.shown ?? "–";
  $("read").textContent = r.number ?? "–";
  const lines = $("lines");
  lines.replaceChildren(...r.lines.map((line) => {
    const row = document.createElement("div");
    row.className = "line";
    for (const k of line) {
      const chip = document.createElement("span");
      chip.className = "digit" + (r.digits[k].status === "ok" ? "" : " low");
      chip.textContent = digitLabel(r.digits[k]);
      row.append(chip);
    }
    return row;
  }));
  if (!r.digits.length) lines.textContent = r.error ? "no digit (" + r.error + ")" : "no digit";
  $("inputs").replaceChildren(...r.digits.filter((d) => d.input_28x28_png).map((d) => {
    const img = document.createElement("img");
    img.src = d.input_28x28_png;
    img.alt = img.title = digitLabel(d);
    return img;
  }));
  $("fps").textContent = r.fps ? r.fps.toFixed(1) : "–";
  for (const [stage, ms] of Object.entries(r.latency_ms)) {
    const cell = $("ms-" + stage);
    if (cell) cell.textContent = ms.toFixed(2) + " ms";
  }
  const frame = $("frame");
  frame.dataset.frame = r.frame;
  frame.textContent = "frame " + r.frame;
  showFrozen(r.frozen);
}

function showFrozen(value) {
  frozen = value;
  const button = $("freeze");
  button.textContent = frozen ? "Resume" : "Freeze";
  button.setAttribute("aria-pressed", String(frozen));
  setStatus(frozen ? "frozen" : "live", frozen ? "frozen" : "live");
}

$("freeze").addEventListener("click", async () => {
  const answer = await fetch("api/freeze?frozen=" + (frozen ? "0" : "1"),
                             { method: "POST", headers: { "X-Requested-With": "mnist-edge" } });
  if (answer.ok) showFrozen((await answer.json()).frozen);
});

const events = new EventSource("api/events");
events.onmessage = (event) => render(JSON.parse(event.data));
events.onerror = () => setStatus("disconnected, retrying…", "lost");

// A dropped stream (server restarted, network gone) is asked for again.
const stream = $("stream");
stream.addEventListener("error", () => setTimeout(() => { stream.src = "stream.mjpg?t=" + Date.now(); }, 2000));
