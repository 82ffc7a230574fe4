// The image library: "Copy" (or "Insert" when the editor sent the writer here with ?pick=1) puts an
// image's Markdown on the clipboard. Without JavaScript the read-only field can be copied by hand.
// In pick mode the snippet is also left in sessionStorage ("dialog:image-snippet") for the editor
// to take when the writer goes back to it, and the library goes back to the page it came from.
(function () {
  "use strict";
  const SNIPPET_KEY = "dialog:image-snippet";

  function say(button, text) {
    const status = button.closest(".image-card").querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    field.focus();
    field.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function cameFromThisSite() {
    try {
      return document.referrer && new URL(document.referrer).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      copy(field).then(function () {
        say(button, button.dataset.done);
        if (button.dataset.pick) {
          try { window.sessionStorage.setItem(SNIPPET_KEY, field.value); } catch (e) { /* storage off */ }
          if (cameFromThisSite() && window.history.length > 1) window.history.back();
        }
      }, function () {
        field.focus();
        field.select();
        say(button, button.dataset.failed);
      });
    });
  });

  // Too large for the server: say so before sending, so the alternative text stays typed.
  const form = document.querySelector(".upload-form");
  if (form) {
    const input = form.querySelector('input[type="file"]');
    const message = document.getElementById("upload-message");
    const max = Number(form.dataset.maxBytes || 0);
    form.addEventListener("submit", function (event) {
      const file = input && input.files && input.files[0];
      if (file && max && file.size > max) {
        event.preventDefault();
        message.textContent = form.dataset.tooLarge;
        message.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    });
  }
})();
