// latentstudio studio: small helpers shared by the pages (no framework, nothing fetched from the internet).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

function esc(text) {
  return String(text).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

function fileUrl(rel) {
  return "/files/" + rel.split("/").map(encodeURIComponent).join("/");
}

// fetch JSON; a 4xx/5xx answer becomes an Error carrying the studio's message
async function api(method, url, body) {
  const opts = {method};
  if (body !== undefined) opts.body = body;
  const res = await fetch(url, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const msg = (data && data.error) ? data.error : `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

function showError(el, msg) {
  el.textContent = msg ? String(msg) : "";
}

// Follow a queued job over SSE with a progress bar and a cancel button inside `box`; resolves with its result.
function followJob(job, box) {
  box.innerHTML = `<div class="job" data-job="${esc(job.id)}"><progress></progress><span class="msg">queued</span>
    <button type="button" class="cancel">Cancel</button></div>`;
  const bar = $("progress", box), msg = $(".msg", box), cancel = $(".cancel", box);
  cancel.onclick = () => { cancel.disabled = true; api("POST", `/api/jobs/${job.id}/cancel`).catch(() => {}); };
  return new Promise((resolve, reject) => {
    const src = new EventSource(`/api/jobs/${job.id}/events`);
    const update = (j) => {
      msg.textContent = j.message + (j.status === "running" ? ` (${j.seconds.toFixed(1)} s)` : "");
      if (j.total) { bar.max = j.total; bar.value = j.done; } else { bar.removeAttribute("value"); }
      box.dataset.status = j.status;
    };
    src.addEventListener("progress", (e) => update(JSON.parse(e.data)));
    src.addEventListener("end", (e) => {
      src.close();
      const j = JSON.parse(e.data);
      update(j);
      cancel.remove();
      if (j.status === "done") { bar.max = 1; bar.value = 1; resolve(j.result); }
      else if (j.status === "cancelled") reject(new Error("cancelled"));
      else reject(new Error(j.error || "the job failed"));
    });
    src.addEventListener("error", (e) => {
      if (e.data) { src.close(); reject(new Error(JSON.parse(e.data).error)); }
    });
  });
}

// Show only the form rows of the chosen mode: a row with data-modes="walk loop" shows in those modes of `select`.
function modeRows(select) {
  const show = () => {
    for (const el of document.querySelectorAll("[data-modes]")) {
      el.hidden = !el.dataset.modes.split(" ").includes(select.value);
    }
  };
  select.addEventListener("change", show);
  show();
}

// The form's values for a job: each named field's value, and each named file input's file when one is chosen
// (all appended to `fd`, a new FormData by default).
function formFields(fields, files = [], fd = new FormData()) {
  for (const k of fields) fd.append(k, $(`[name=${k}]`).value);
  for (const k of files) {
    const f = $(`[name=${k}]`).files[0];
    if (f) fd.append(k, f, f.name);
  }
  return fd;
}

// Submit a form to a job route, follow it, and hand the result to `done`; errors land in `errBox`.
async function submitJob(url, formData, jobBox, errBox, done) {
  showError(errBox, "");
  try {
    const {job} = await api("POST", url, formData);
    const result = await followJob(job, jobBox);
    await done(result);
  } catch (err) {
    showError(errBox, err.message);
  }
}

// A picture chooser: sample <select>, file <input>, drop zone. Fills `formData` with sample or file.
async function pictureChooser(root) {
  const select = $("select.sample", root), input = $("input[type=file]", root), drop = $(".drop", root);
  const preview = $("img.preview", root);
  const {samples} = await api("GET", "/api/samples");
  select.innerHTML = `<option value="">(a sample picture)</option>` +
    samples.map(n => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
  let dropped = null;
  const given = new URLSearchParams(location.search).get("source");   // a picture of the gallery
  if (given) preview.src = fileUrl(given);
  select.onchange = () => { dropped = null; input.value = ""; if (select.value) preview.src = `/api/samples/${select.value}`; };
  input.onchange = () => { dropped = null; select.value = ""; if (input.files[0]) preview.src = URL.createObjectURL(input.files[0]); };
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault(); drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) { dropped = f; select.value = ""; input.value = ""; preview.src = URL.createObjectURL(f); }
  };
  return (fd) => {
    const f = dropped || input.files[0];
    if (f) fd.append("file", f, f.name);
    else if (select.value) fd.append("sample", select.value);
    else if (given) fd.append("source", given);
    return fd;
  };
}

// Encode mono float samples as a 16-bit PCM WAV blob.
function wavBlob(samples, sr) {
  const buf = new ArrayBuffer(44 + samples.length * 2), v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + samples.length * 2, true); str(8, "WAVE"); str(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, sr, true);
  v.setUint32(28, sr * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + i * 2, x < 0 ? x * 0x8000 : x * 0x7fff, true);
  }
  return new Blob([buf], {type: "audio/wav"});
}
