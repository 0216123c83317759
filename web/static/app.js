// newswatch dashboard: progressive enhancement only; every page works without it.
"use strict";

function liveCheck() {
  const box = document.getElementById("query");
  const out = document.getElementById("query-check");
  if (!box || !out || !box.dataset.check) return;
  let timer = 0;
  let seq = 0;
  const show = (answer) => {
    out.replaceChildren();
    if (answer.ok) {
      const p = document.createElement("p");
      p.className = "ok";
      p.textContent = "Query is valid.";
      out.append(p);
      return;
    }
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = answer.message + " at position " + answer.position;
    const pre = document.createElement("pre");
    pre.className = "caret";
    pre.textContent = answer.caret;
    out.append(p, pre);
  };
  const check = async () => {
    const mine = ++seq;
    if (!box.value.trim()) { out.replaceChildren(); return; }
    try {
      const res = await fetch(box.dataset.check, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": box.dataset.csrf },
        body: JSON.stringify({ query: box.value }),
        credentials: "same-origin",
      });
      if (res.ok && mine === seq) show(await res.json());
    } catch (_) { /* offline: the check on save still runs */ }
  };
  box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
}

function liveHits() {
  const list = document.getElementById("hits");
  if (!list || !list.dataset.stream || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const source = new EventSource(list.dataset.stream);
  source.addEventListener("hit", (event) => {
    const hit = JSON.parse(event.data);
    if (list.querySelector('[data-id="' + hit.id + '"]')) return;
    const tpl = document.createElement("template");
    tpl.innerHTML = hit.html; // rendered and escaped by the server
    const row = tpl.content.firstElementChild;
    if (!row) return;
    row.classList.add("new");
    list.prepend(row);
    const empty = document.getElementById("no-hits");
    if (empty) empty.remove();
    if (status) status.textContent = "New hit: " + (row.querySelector(".hit-title") || row).textContent.trim();
  });
  source.addEventListener("end", () => {
    source.close();
    if (status) status.textContent = "Signed out: reload to sign in again.";
  });
}

function importProgress() {
  for (const form of document.querySelectorAll("form[data-progress]")) {
    form.addEventListener("submit", () => {
      const bar = document.getElementById(form.dataset.progress);
      if (bar) bar.hidden = false;
    });
  }
}

document.addEventListener("DOMContentLoaded", () => { liveCheck(); liveHits(); importProgress(); });
