// Moderation queue, progressive enhancement. Without JavaScript every form posts and the page
// reloads; with it, decisions and answers go out with fetch (the same POST: CSRF token, the
// status and text version the moderator saw), the item leaves the view, the cursor stays where
// it was, the counts follow, and a toast offers the undo. Also: claim on opening an answer box,
// canned responses and Markdown preview, select all, keyboard shortcuts, and what colleagues do
// meanwhile (short polling of /moderation/updates).
(function () {
  "use strict";
  const csrf = () => (document.querySelector('input[name="csrf_token"]') || {}).value || "";
  const root = document.getElementById("queue"); // only on the queue page
  const view = root ? root.dataset.view : "";

  function post(url, data) {
    const body = data instanceof URLSearchParams ? data : new URLSearchParams(Object.assign({ csrf_token: csrf() }, data || {}));
    return fetch(url, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json().then((json) => ({ status: r.status, json })).catch(() => null))
      .catch(() => null);
  }

  // --- toasts and counts ------------------------------------------------------------------------
  const toasts = document.querySelector("[data-toasts]");
  let lastUndo = null; // the newest undo still offered: { button, toast }

  function toast(message, undo, onUndo) {
    if (!toasts) return null;
    const box = document.createElement("div");
    box.className = "toast";
    box.setAttribute("role", "status");
    const text = document.createElement("span");
    text.textContent = message;
    box.append(text);
    if (undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small";
      button.textContent = (root && root.dataset.undoLabel) || "Undo";
      const key = document.createElement("kbd");
      key.textContent = "u";
      button.append(" ", key);
      const left = Math.max(0, undo.until * 1000 - Date.now());
      const bar = document.createElement("span");
      bar.className = "toast-timer";
      bar.style.animationDuration = left + "ms";
      box.append(button, bar);
      const entry = { button, toast: box };
      button.addEventListener("click", () => { button.disabled = true; onUndo(entry); });
      lastUndo = entry;
      setTimeout(() => { if (lastUndo === entry) lastUndo = null; box.remove(); }, left);
    } else {
      setTimeout(() => box.remove(), 4000);
    }
    toasts.prepend(box);
    while (toasts.children.length > 2) toasts.lastElementChild.remove();
    return box;
  }

  function updateCounts(counts) {
    if (!counts) return;
    document.querySelectorAll("[data-count]").forEach((el) => {
      const value = counts[el.dataset.count];
      if (value !== undefined) el.textContent = Number(value).toLocaleString(document.documentElement.lang || undefined);
    });
  }

  // The toast the server rendered (a decision made without fetch, e.g. on a comment's page) counts down too.
  document.querySelectorAll("form.toast[data-undo-until]").forEach((form) => {
    const left = Math.max(0, Number(form.dataset.undoUntil) * 1000 - Date.now());
    const button = form.querySelector("button");
    lastUndo = { button, toast: form, native: true };
    setTimeout(() => form.remove(), left);
  });

  // --- the items ------------------------------------------------------------------------------
  const items = () => Array.from(document.querySelectorAll(".queue-item:not(.is-gone)"));
  let current = -1;
  function focusItem(index) {
    const list = items();
    if (!list.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((el, i) => el.classList.toggle("is-current", i === current));
    list[current].focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }

  // The first item is current from the start, so "a" works at once.
  if (root && items().length) { current = 0; items()[0].classList.add("is-current"); }

  // An item leaves the view; it is kept (detached) so an undo can put it back where it was.
  function leave(item) {
    const list = items();
    const index = list.indexOf(item);
    const place = { parent: item.parentNode, next: item.nextSibling };
    item.classList.add("is-gone");
    item.remove();
    if (!items().length && root) showEmpty(true);
    if (index === -1) return place;
    if (index < current) current -= 1; // an item above went: the cursor stays on its comment
    else if (index === current) focusItem(Math.min(index, items().length - 1)); // the next takes its place
    return place;
  }
  function comeBack(item, place) {
    showEmpty(false);
    item.classList.remove("is-gone");
    place.parent.insertBefore(item, place.next && place.next.parentNode === place.parent ? place.next : null);
    focusItem(items().indexOf(item));
  }
  function showEmpty(on) {
    let empty = document.querySelector("[data-live-empty]");
    if (on && !empty) {
      empty = document.createElement("p");
      empty.className = "empty";
      empty.dataset.liveEmpty = "";
      empty.textContent = root.dataset.emptyText;
      const list = document.querySelector(".queue-list") || document.querySelector("main");
      list.after(empty);
    } else if (!on && empty) {
      empty.remove();
    }
  }

  function decide(form) {
    const item = form.closest(".queue-item");
    const data = new URLSearchParams(new FormData(form));
    data.set("view", view);
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    post(form.action, data).then((result) => {
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      if (!result) { form.submit(); return; } // not what we expected (a sign-in ended …): the plain POST
      const { json } = result;
      updateCounts(json.counts);
      if (!json.ok) { // a colleague was quicker, or the text changed: say so, show it as it is now
        toast(json.message);
        markStale(item, json.message);
        return;
      }
      let place = null;
      if (json.in_view) {
        const pill = item.querySelector(".pill[class*='status-']");
        if (pill) { pill.className = "pill status-" + json.status; pill.textContent = json.status_label; }
        focusItem(items().indexOf(item) + 1);
      } else {
        place = leave(item);
      }
      toast(json.message, json.undo, (entry) => {
        post(json.undo.url, { event: json.undo.event }).then((undone) => {
          entry.toast.remove();
          if (!undone) return;
          updateCounts(undone.json.counts);
          toast(undone.json.message);
          if (undone.json.ok && place) comeBack(item, place);
          else if (undone.json.ok) window.location.reload();
        });
      });
    });
  }
  function markStale(item, message) {
    if (!item) return;
    item.classList.add("is-stale");
    let note = item.querySelector("[data-stale]");
    if (!note) {
      note = document.createElement("p");
      note.className = "flash flash-warning";
      note.dataset.stale = "";
      item.querySelector(".queue-actions").before(note);
    }
    note.textContent = message;
    item.querySelectorAll(".queue-actions form button, .reply-box button").forEach((b) => { b.disabled = true; });
  }

  if (root) {
    document.querySelectorAll(".queue-item form[data-action]").forEach((form) => {
      form.addEventListener("submit", (event) => { event.preventDefault(); decide(form); });
    });
    // The inline answer goes out in place too; a refusal (an unknown placeholder …) keeps the text.
    document.querySelectorAll(".queue-item form.inline-reply").forEach((form) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const item = form.closest(".queue-item");
        const message = form.querySelector("[data-reply-message]");
        const button = form.querySelector('button[type="submit"]');
        button.disabled = true;
        post(form.action, new URLSearchParams(new FormData(form))).then((result) => {
          button.disabled = false;
          if (!result) { form.submit(); return; }
          updateCounts(result.json.counts);
          if (!result.json.ok) {
            message.textContent = result.json.message;
            message.hidden = false;
            if (result.status === 409) markStale(item, result.json.message);
            return;
          }
          toast(result.json.message);
          leave(item);
        });
      });
    });
  }

  // --- answer boxes: claim, similar answers, canned responses, preview -----------------------------
  function claimOn(box, url) {
    if (!url || box.dataset.claimed) return;
    box.dataset.claimed = "1";
    post(url).then((result) => {
      const json = result && result.json;
      if (json && !json.ok && json.holder) {
        const note = document.createElement("p");
        note.className = "flash flash-warning";
        const holder = box.closest("[data-claim-text]");
        note.textContent = holder ? holder.dataset.claimText.replace("%s", json.holder) : json.holder + " …";
        box.prepend(note);
      }
    });
  }
  function loadSimilar(box) {
    const slot = box.querySelector("[data-similar]");
    if (!slot || !box.dataset.similarUrl || box.dataset.similarLoaded) return;
    box.dataset.similarLoaded = "1";
    fetch(box.dataset.similarUrl, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : ""))
      .then((html) => { slot.innerHTML = html; }) // rendered and escaped by the server's template
      .catch(() => {});
  }
  function insert(textarea, text) {
    const at = textarea.selectionStart || textarea.value.length;
    textarea.value = textarea.value.slice(0, at) + text + textarea.value.slice(at);
    textarea.focus();
    textarea.dispatchEvent(new Event("input"));
  }
  document.querySelectorAll("details.reply-box").forEach((box) => {
    box.addEventListener("toggle", () => {
      if (!box.open) return;
      claimOn(box, box.dataset.claimUrl);
      loadSimilar(box);
      const select = box.querySelector("[data-canned-select]");
      const preferred = select && select.querySelector("option[data-preferred]");
      if (preferred && !select.value) select.value = preferred.value; // the post's language first
      box.querySelector("textarea").focus();
    });
  });
  document.querySelectorAll("form.reply-form").forEach((form) => {
    const textarea = form.querySelector("textarea");
    textarea.addEventListener("focus", () => claimOn(form, form.dataset.claimUrl), { once: true });
    const scope = form.closest("details.reply-box") || document;
    // Canned responses are inserted at the cursor as written; the server fills the placeholders in
    // once, when the answer is previewed or sent (so a reader's name is never read as a placeholder).
    scope.querySelectorAll("[data-canned]").forEach((link) => {
      link.addEventListener("click", (event) => { event.preventDefault(); insert(textarea, link.dataset.canned); });
    });
    const select = scope.querySelector("[data-canned-select]");
    if (select) {
      const choice = select.closest("form");
      const use = choice.querySelector("[data-no-js]");
      choice.addEventListener("submit", (event) => {
        event.preventDefault();
        const option = select.selectedOptions[0];
        if (option && option.dataset.body) insert(textarea, option.dataset.body);
      });
      select.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); choice.requestSubmit(use); } });
    }
    const box = form.querySelector("[data-preview]");
    const message = form.querySelector("[data-reply-message]");
    let timer = null;
    function preview() {
      if (!box || !form.dataset.previewUrl) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        post(form.dataset.previewUrl, { body: textarea.value, comment: form.dataset.comment || "" }).then((result) => {
          if (!result) return;
          if (message) { message.hidden = !result.json.error; message.textContent = result.json.error || ""; }
          if (result.json.html === undefined) return;
          box.innerHTML = result.json.html; // sanitised by the server's pipeline
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

  // --- what colleagues do meanwhile -----------------------------------------------------------------
  if (root && Number(root.dataset.poll) > 0) {
    let cursor = root.dataset.cursor;
    let fresh = 0;
    const news = document.querySelector("[data-live-news]");
    function apply(change) {
      const item = document.getElementById("q-" + change.comment);
      if (change.action === "submit" || change.action === "import") {
        if (!item && !change.mine && change.status === "pending" && ["pending", "all"].includes(view)) fresh += 1;
        return;
      }
      if (!item || item.classList.contains("is-gone")) return;
      const slot = item.querySelector("[data-claim-slot]");
      if (slot) {
        slot.textContent = "";
        if (change.claimed_by && !change.mine) {
          const strong = document.createElement("strong");
          strong.className = "claimed";
          strong.textContent = item.dataset.claimText.replace("%s", change.claimed_by);
          slot.append(" · ", strong);
        }
      }
      if (change.mine || ["claim", "release", "assign", "response_status"].includes(change.action)) return;
      if (change.status !== item.dataset.status || change.action === "reply") { // handled by a colleague
        toast(change.text);
        leave(item);
      }
    }
    function poll() {
      if (document.hidden) return;
      fetch(root.dataset.updatesUrl + "?since=" + encodeURIComponent(cursor), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((json) => {
          if (!json) return;
          cursor = json.cursor;
          json.changes.forEach(apply);
          updateCounts(json.counts);
          if (fresh && news) {
            news.hidden = false;
            news.querySelector("a").textContent = fresh === 1 ? root.dataset.newOne : root.dataset.newMany.replace("%s", fresh);
          }
        })
        .catch(() => {});
    }
    setInterval(poll, Number(root.dataset.poll) * 1000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  // --- keyboard: j/k move, a approve, s spam, d delete, u undo, r answer, e escalate, x select, ? help
  const help = document.getElementById("shortcuts-help");
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
    if (event.key === "u") {
      if (lastUndo && !lastUndo.button.disabled) { event.preventDefault(); lastUndo.button.click(); }
      return;
    }
    if (!root) return;
    const item = items()[current];
    const click = (selector) => { const el = item && item.querySelector(selector); if (el && !el.disabled) { event.preventDefault(); el.click(); } };
    switch (event.key) {
      case "j": event.preventDefault(); focusItem(current + 1); break;
      case "k": event.preventDefault(); focusItem(current - 1); break;
      case "a": click('form[data-action="approve"] button'); break;
      case "s": click('form[data-action="spam"] button'); break;
      case "d": click('form[data-action="delete"] button'); break;
      case "x": { const box = item && item.querySelector('input[name="ids"]'); if (box) { box.checked = !box.checked; } break; }
      case "r": { const box = item && item.querySelector("details.reply-box"); if (box) { event.preventDefault(); box.open = true; } break; }
      case "e": { const link = item && item.querySelector("a[data-details]"); if (link) { event.preventDefault(); window.location = link.href + "#escalate"; } break; }
      case "?": event.preventDefault(); toggleHelp(); break;
      default: break;
    }
  });
})();
