// Moderation queue, progressive enhancement: claim on opening the answer box, canned responses,
// Markdown preview, select all, keyboard shortcuts. Every action still works without JavaScript.
(function () {
  "use strict";
  const csrf = () => (document.querySelector('input[name="csrf_token"]') || {}).value || "";

  function post(url, data) {
    const body = new URLSearchParams(Object.assign({ csrf_token: csrf() }, data || {}));
    return fetch(url, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null)).catch(() => null);
  }

  // Opening an answer box claims the comment, so colleagues see "… is answering".
  function claimOn(box, url) {
    if (!url || box.dataset.claimed) return;
    box.dataset.claimed = "1";
    post(url).then((result) => {
      if (result && !result.ok && result.holder) {
        const note = document.createElement("p");
        note.className = "flash flash-warning";
        note.textContent = box.closest("[data-claim-text]")
          ? box.closest("[data-claim-text]").dataset.claimText.replace("%s", result.holder)
          : result.holder + " …";
        box.prepend(note);
      }
    });
  }
  // … and shows earlier answered questions like this one, so nobody writes the same answer twice.
  function loadSimilar(box) {
    const slot = box.querySelector("[data-similar]");
    if (!slot || !box.dataset.similarUrl || box.dataset.similarLoaded) return;
    box.dataset.similarLoaded = "1";
    fetch(box.dataset.similarUrl, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : ""))
      .then((html) => { slot.innerHTML = html; }) // rendered and escaped by the server's template
      .catch(() => {});
  }
  document.querySelectorAll("details.reply-box").forEach((box) => {
    box.addEventListener("toggle", () => {
      if (!box.open) return;
      claimOn(box, box.dataset.claimUrl);
      loadSimilar(box);
      box.querySelector("textarea").focus();
    });
  });
  document.querySelectorAll("form.reply-form").forEach((form) => {
    const textarea = form.querySelector("textarea");
    textarea.addEventListener("focus", () => claimOn(form, form.dataset.claimUrl), { once: true });
    // Canned responses: fill in the placeholders and insert at the cursor instead of reloading.
    document.querySelectorAll("[data-canned]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const text = link.dataset.canned.replaceAll("{name}", form.dataset.name)
          .replaceAll("{post_title}", form.dataset.postTitle).replaceAll("{team}", form.dataset.team);
        const at = textarea.selectionStart || textarea.value.length;
        textarea.value = textarea.value.slice(0, at) + text + textarea.value.slice(at);
        textarea.focus();
        preview();
      });
    });
    const box = form.querySelector("[data-preview]");
    let timer = null;
    function preview() {
      if (!box || !form.dataset.previewUrl) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        post(form.dataset.previewUrl, { body: textarea.value }).then((result) => {
          if (!result) return;
          box.innerHTML = result.html; // sanitised by the server's pipeline
          box.hidden = !textarea.value.trim();
        });
      }, 300);
    }
    textarea.addEventListener("input", preview);
  });

  // Select all on this page for a bulk action.
  const all = document.querySelector("[data-select-all]");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll('input[name="ids"]').forEach((box) => { box.checked = all.checked; });
  });

  // Keyboard shortcuts: j/k move, a approve, s spam, r answer, e escalate, x select, ? help.
  const help = document.getElementById("shortcuts-help");
  const items = () => Array.from(document.querySelectorAll(".queue-item"));
  let current = -1;
  function focusItem(index) {
    const list = items();
    if (!list.length) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((el, i) => el.classList.toggle("is-current", i === current));
    list[current].focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }
  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) help.querySelector("button").focus();
  }
  document.querySelectorAll("[data-shortcuts-help]").forEach((b) => b.addEventListener("click", () => toggleHelp(true)));
  document.querySelectorAll("[data-shortcuts-close]").forEach((b) => b.addEventListener("click", () => toggleHelp(false)));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") { toggleHelp(false); return; }
    if (typing) return;
    const item = items()[current];
    const click = (selector) => { const el = item && item.querySelector(selector); if (el) { event.preventDefault(); el.click(); } };
    switch (event.key) {
      case "j": event.preventDefault(); focusItem(current + 1); break;
      case "k": event.preventDefault(); focusItem(current - 1); break;
      case "a": click('form[data-action="approve"] button'); break;
      case "s": click('form[data-action="spam"] button'); break;
      case "x": { const box = item && item.querySelector('input[name="ids"]'); if (box) { box.checked = !box.checked; } break; }
      case "r": { const box = item && item.querySelector("details.reply-box"); if (box) { event.preventDefault(); box.open = true; } break; }
      case "e": { const link = item && item.querySelector('a.btn-ghost'); if (link) { event.preventDefault(); window.location = link.href + "#escalate"; } break; }
      case "?": event.preventDefault(); toggleHelp(); break;
      default: break;
    }
  });
})();
