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
    // One entry per story: a new hit on a story shown already replaces its entry.
    const hit = JSON.parse(event.data);
    if (list.querySelector('[data-id="' + hit.id + '"]')) return;
    const tpl = document.createElement("template");
    tpl.innerHTML = hit.html; // rendered and escaped by the server
    const row = tpl.content.firstElementChild;
    if (!row) return;
    const shown = [...list.children].find((e) => e.dataset.story === hit.story);
    if (shown) shown.remove();
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

// OPML import in parts of 25 feeds, so that the bar shows real progress; the result
// lists added, existing and invalid feeds with reasons. Without a parsable file (or
// without this script) the form posts the whole document as usual.
const IMPORT_PART = 25;

function importProgress() {
  const form = document.querySelector("form[data-progress]");
  if (!form || !window.DOMParser || !window.fetch) return;
  form.addEventListener("submit", async (event) => {
    const file = form.querySelector("input[type=file]").files[0];
    const bar = document.getElementById("import-bar");
    const count = document.getElementById("import-count");
    document.getElementById(form.dataset.progress).hidden = false;
    if (!file) return;
    const doc = new DOMParser().parseFromString(await readText(file, event), "text/xml");
    const outlines = [...doc.querySelectorAll("outline[xmlUrl], outline[xmlurl]")];
    if (doc.querySelector("parsererror") || !outlines.length) { form.submit(); return; }
    const totals = { added: 0, existing: 0, invalid: [] };
    bar.max = outlines.length;
    bar.value = 0;
    for (let i = 0; i < outlines.length; i += IMPORT_PART) {
      const part = outlines.slice(i, i + IMPORT_PART);
      const body = new FormData();
      body.append("csrf", form.querySelector("input[name=csrf]").value);
      body.append("opml", new Blob([opml(part)], { type: "text/x-opml" }), "part.opml");
      const res = await fetch(form.action, { method: "POST", body, headers: { accept: "application/json" } });
      const answer = await res.json();
      if (!res.ok) { totals.invalid.push({ url: "(part " + (i / IMPORT_PART + 1) + ")", reason: answer.detail }); }
      else {
        totals.added += answer.added;
        totals.existing += answer.existing;
        totals.invalid.push(...answer.invalid);
      }
      bar.value = Math.min(outlines.length, i + IMPORT_PART);
      count.textContent = bar.value + " of " + outlines.length + " feeds checked";
    }
    showImport(totals);
  });
}

function readText(file, event) {
  event.preventDefault();
  return file.text();
}

function opml(outlines) {
  const doc = document.implementation.createDocument(null, "opml", null);
  doc.documentElement.setAttribute("version", "2.0");
  const body = doc.createElement("body");
  for (const o of outlines) {
    const copy = doc.createElement("outline");
    copy.setAttribute("type", "rss");
    copy.setAttribute("xmlUrl", o.getAttribute("xmlUrl") || o.getAttribute("xmlurl"));
    const title = o.getAttribute("title") || o.getAttribute("text");
    if (title) copy.setAttribute("title", title);
    body.append(copy);
  }
  doc.documentElement.append(body);
  return new XMLSerializer().serializeToString(doc);
}

function showImport(totals) {
  const out = document.getElementById("import-live");
  out.hidden = false;
  const p = document.createElement("p");
  p.textContent = "Imported: " + totals.added + " added, " + totals.existing + " already watched, " + totals.invalid.length + " invalid.";
  const list = document.createElement("ul");
  for (const bad of totals.invalid.slice(0, 100)) {
    const li = document.createElement("li");
    li.textContent = bad.url + ": " + bad.reason;
    list.append(li);
  }
  out.replaceChildren(p, list);
}

document.addEventListener("DOMContentLoaded", () => { liveCheck(); liveHits(); importProgress(); });
