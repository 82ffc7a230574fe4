// The post editor: a Markdown toolbar, a live preview rendered by the server (the published posts'
// pipeline), the address made from the title, and a copy of the form in localStorage so a closed
// tab loses nothing. Without JavaScript the form, the "Preview" button and the image library work.
(function () {
  "use strict";
  const form = document.getElementById("post-form");
  if (!form) return;
  const body = form.querySelector("#body");
  const title = form.querySelector("#title");
  const slug = form.querySelector("#slug");
  const preview = document.getElementById("preview");
  const previewState = document.getElementById("preview-state");
  const saveState = document.getElementById("autosave-state");
  const key = form.dataset.autosaveKey;
  const FIELDS = ["title", "slug", "summary", "category", "tags", "lang", "status", "published_at", "body"];
  const SNIPPET_KEY = "dialog:image-snippet";
  const CURSOR_KEY = "dialog:editor-cursor";

  // --- storage (private windows or full disks may refuse: the editor works on without it) ---------
  function store(area, name, value) {
    try {
      if (value === null) window[area].removeItem(name); else window[area].setItem(name, value);
      return true;
    } catch (e) {
      return false;
    }
  }
  function load(area, name) {
    try { return window[area].getItem(name); } catch (e) { return null; }
  }

  // --- the toolbar ----------------------------------------------------------------------------------
  function replaceSelection(before, after, placeholder) {
    const start = body.selectionStart, end = body.selectionEnd;
    const chosen = body.value.slice(start, end) || placeholder || "";
    body.setRangeText(before + chosen + after, start, end, "end");
    body.setSelectionRange(start + before.length, start + before.length + chosen.length);
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function prefixLines(prefix) {
    const value = body.value;
    const start = value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    let end = value.indexOf("\n", body.selectionEnd);
    if (end === -1) end = value.length;
    const lines = value.slice(start, end).split("\n").map(function (line) { return prefix + line; });
    body.setRangeText(lines.join("\n"), start, end, "select");
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertAt(position, text) {
    const at = Math.min(Math.max(0, position), body.value.length);
    const before = at > 0 && body.value[at - 1] !== "\n" ? "\n\n" : "";
    body.setRangeText(before + text + "\n", at, at, "end");
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  const ACTIONS = {
    bold: function () { replaceSelection("**", "**", "fett"); },
    italic: function () { replaceSelection("*", "*", "kursiv"); },
    link: function (button) { replaceSelection("[", "](https://)", button.dataset.placeholder || "link"); },
    heading: function () { prefixLines("## "); },
    list: function () { prefixLines("- "); },
    quote: function () { prefixLines("> "); },
    code: function () {
      const selected = body.value.slice(body.selectionStart, body.selectionEnd);
      if (selected.indexOf("\n") !== -1) replaceSelection("```\n", "\n```", "");
      else replaceSelection("`", "`", "code");
    },
    image: function (button) {
      // To the image library; its "Insert" leaves the Markdown in sessionStorage and comes back here.
      saveNow();
      store("sessionStorage", CURSOR_KEY, JSON.stringify({ key: key, at: body.selectionStart }));
      const url = button.dataset.imagesUrl;
      if (url) {
        window.location.href = url + (url.indexOf("?") === -1 ? "?" : "&") + "pick=1";
      } else {
        replaceSelection("![", "](https://)", button.dataset.alt || "");
      }
    },
  };

  const toolbar = form.querySelector(".toolbar");
  if (toolbar && body) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-md]");
      if (!button || !ACTIONS[button.dataset.md]) return;
      event.preventDefault();
      ACTIONS[button.dataset.md](button);
    });
  }

  function takeImageSnippet() {
    const snippet = load("sessionStorage", SNIPPET_KEY);
    if (!snippet) return;
    let at = body.value.length;
    try {
      const cursor = JSON.parse(load("sessionStorage", CURSOR_KEY) || "null");
      if (cursor && cursor.key === key && typeof cursor.at === "number") at = cursor.at;
    } catch (e) { /* keep the end */ }
    store("sessionStorage", SNIPPET_KEY, null);
    store("sessionStorage", CURSOR_KEY, null);
    // Back from the image library: the text typed before going there comes first, then the image.
    const kept = keptCopy();
    if (kept && kept.fields) restoreFields(kept);
    if (offer) offer.hidden = true;
    insertAt(at, snippet);
  }

  // --- the address from the title (new posts, until the writer types an address) ------------------
  const GERMAN = { "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "&": " und " };
  function slugify(text) {
    return text.toLowerCase().replace(/[äöüß&]/g, function (c) { return GERMAN[c]; })
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
  }
  let slugTouched = !form.dataset.slugAuto || (slug && slug.value !== "");
  if (slug) slug.addEventListener("input", function () { slugTouched = slug.value !== ""; });
  if (title && slug) {
    title.addEventListener("input", function () {
      if (!slugTouched) slug.placeholder = slugify(title.value);
    });
    if (!slugTouched) slug.placeholder = slugify(title.value);
  }

  // --- live preview -----------------------------------------------------------------------------------
  let timer = null, sent = 0, last = null;
  function refreshPreview() {
    if (!preview || !body) return;
    if (body.value === last) return;
    last = body.value;
    const mine = ++sent;
    const data = new URLSearchParams();
    data.set("body", body.value);
    const token = form.querySelector('input[name="csrf_token"]');
    if (token) data.set("csrf_token", token.value);
    if (previewState) previewState.textContent = previewState.dataset.busy || "…";
    fetch(form.dataset.previewUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "text/html" },
    }).then(function (response) {
      return response.text().then(function (html) { return { ok: response.ok || response.status === 422, html: html }; });
    }).then(function (result) {
      if (mine !== sent) return; // an older answer after a newer request
      if (result.ok) {
        preview.innerHTML = result.html; // sanitised by the server's post pipeline
        if (previewState) previewState.textContent = "";
      } else if (previewState) {
        previewState.textContent = "⚠";
        last = null;
      }
    }).catch(function () {
      if (mine === sent && previewState) previewState.textContent = "⚠";
      last = null;
    });
  }
  if (body) {
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshPreview, 400);
    });
  }
  const lang = form.querySelector("#lang");
  if (lang && preview) lang.addEventListener("change", function () { preview.lang = lang.value; });

  // --- autosave in this browser -------------------------------------------------------------------------
  function values() {
    const result = {};
    FIELDS.forEach(function (name) {
      const field = form.elements[name];
      if (field) result[name] = field.value;
    });
    const comments = form.elements.comments_open;
    if (comments) result.comments_open = comments.checked;
    return result;
  }
  function same(a, b) {
    return Object.keys(a).every(function (k) { return a[k] === b[k]; });
  }
  const loaded = values();
  let saveTimer = null;
  function saveNow() {
    if (!key) return;
    const current = values();
    if (same(current, loaded)) return;
    const ok = store("localStorage", key, JSON.stringify({ at: new Date().toISOString(), fields: current }));
    if (saveState && ok) saveState.textContent = saveState.dataset.saved || "✓";
  }
  form.addEventListener("input", function () {
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(saveNow, 700);
  });
  window.addEventListener("pagehide", saveNow);

  const offer = document.getElementById("autosave-offer");
  function keptCopy() {
    try { return JSON.parse(load("localStorage", key) || "null"); } catch (e) { return null; }
  }
  function restoreFields(kept) {
    Object.keys(kept.fields).forEach(function (name) {
      const field = form.elements[name];
      if (!field) return;
      if (name === "comments_open") field.checked = !!kept.fields[name];
      else field.value = kept.fields[name];
    });
    if (slug && slug.value) slugTouched = true;
  }
  function offerRestore() {
    if (!key || !offer) return;
    const kept = keptCopy();
    if (!kept || !kept.fields || same(kept.fields, values())) return;
    const when = offer.querySelector("time");
    if (when && kept.at) {
      when.dateTime = kept.at;
      when.textContent = new Date(kept.at).toLocaleString(document.documentElement.lang || undefined);
    }
    offer.hidden = false;
    offer.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-autosave]");
      if (!button) return;
      if (button.dataset.autosave === "restore") {
        restoreFields(kept);
        refreshPreview();
      } else {
        store("localStorage", key, null);
      }
      offer.hidden = true;
    });
  }

  if (form.dataset.justSaved) {
    // The server has it now: the browser's copy (and that of the new post it was) can go.
    store("localStorage", key, null);
    if (form.dataset.justCreated) store("localStorage", "dialog-editor:new", null);
  } else {
    offerRestore();
  }
  // After "load": a browser going back restores the form's fields before it, and would overwrite the insertion.
  window.addEventListener("pageshow", takeImageSnippet);
  form.addEventListener("submit", function (event) {
    const submitter = event.submitter;
    if (!submitter || submitter.value !== "preview") saveNow(); // kept until the server confirms the save
  });
  if (body && body.value && preview && preview.querySelector(".preview-empty")) refreshPreview();
})();
