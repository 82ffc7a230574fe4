// Progressive enhancement for the comment form: "Reply" opens the form right under the comment
// being answered instead of loading the reply page. Without JavaScript the links still work.
(function () {
  "use strict";
  const form = document.getElementById("comment-form");
  const home = document.getElementById("comment-form-home");
  if (!form || !home) return;
  const parentField = form.querySelector('input[name="parent_id"]');
  const title = document.getElementById("comment-form-title");
  const newTitle = form.dataset.newTitle || title.textContent;
  const replyTitle = form.dataset.replyTitle || "%s";

  function cancelButton() {
    let button = form.querySelector("button.cancel-inline");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "link-button cancel-inline";
      button.textContent = form.dataset.cancelLabel || "Cancel";
      button.addEventListener("click", reset);
      form.querySelector("[data-submit]").after(button);
    }
    return button;
  }

  function openUnder(link) {
    const article = document.getElementById("comment-" + link.dataset.replyTo);
    if (!article) return false;
    article.after(form);
    parentField.value = link.dataset.replyTo;
    title.textContent = replyTitle.replace("%s", link.dataset.replyName);
    const noJsNote = form.querySelector("[data-replying]");
    if (noJsNote) noJsNote.hidden = true;
    cancelButton().hidden = false;
    form.querySelector("[data-submit]").textContent = form.dataset.replyLabel || "Reply";
    form.classList.add("is-inline");
    form.querySelector("textarea").focus();
    return true;
  }

  function reset() {
    home.appendChild(form);
    parentField.value = "";
    title.textContent = newTitle;
    form.classList.remove("is-inline");
    form.querySelector("[data-submit]").textContent = form.dataset.sendLabel || "Send";
    const button = form.querySelector("button.cancel-inline");
    if (button) button.hidden = true;
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a.reply-link");
    if (link && openUnder(link)) event.preventDefault();
  });
})();

// "Remember me on this device" (opt-in): name, e-mail address and website are kept in this
// browser's localStorage, never in a cookie, and filled into empty fields on the next visit.
(function () {
  "use strict";
  const form = document.getElementById("comment-form");
  const row = form && form.querySelector("[data-remember]");
  if (!row) return;
  const KEY = "dialog.commenter";
  const FIELDS = ["name", "email", "website"];
  let store = null;
  try { store = window.localStorage; store.getItem(KEY); } catch (error) { return; } // storage off: no offer
  const box = row.querySelector("[data-remember-box]");
  row.hidden = false;
  let saved = null;
  try { saved = JSON.parse(store.getItem(KEY) || "null"); } catch (error) { saved = null; }
  if (saved && typeof saved === "object") {
    box.checked = true;
    FIELDS.forEach((name) => {
      const field = form.elements[name];
      if (field && !field.value && typeof saved[name] === "string") field.value = saved[name].slice(0, 300);
    });
  }
  form.addEventListener("submit", () => {
    try {
      if (box.checked) {
        const values = {};
        FIELDS.forEach((name) => { if (form.elements[name]) values[name] = form.elements[name].value.trim(); });
        store.setItem(KEY, JSON.stringify(values));
      } else {
        store.removeItem(KEY); // unticked: forgotten on this device
      }
    } catch (error) { /* storage full or off: the comment goes out anyway */ }
  });
})();

// An old blog's comment anchor (#comment-123 on an address imported from WordPress, marked
// ?from=wordpress by the redirect) names the old comment number: ask where that comment is now.
(function () {
  "use strict";
  const match = /^#comment-(\d{1,12})$/.exec(location.hash);
  const params = new URLSearchParams(location.search);
  if (!match || params.get("from") !== "wordpress") return;
  const base = location.pathname.replace(/\/+$/, "");
  location.replace(base + "/comments/imported/" + match[1]);
})();
