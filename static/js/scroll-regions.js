// Code blocks, wide tables and charts that scroll sideways must be reachable by keyboard: one that
// overflows becomes focusable (arrow keys then scroll it) and gets a name, so a screen reader says
// what the focus landed on. The stored post HTML stays as the sanitiser made it; without
// JavaScript the regions still scroll by mouse, touch or trackpad.
(function () {
  "use strict";
  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  // [selector, label, role]: tables and figures keep their own role (a region role would hide a
  // table's rows and cells from screen readers); plain boxes become named regions.
  const KINDS = [
    ["pre", data.codeLabel || "Code", "region"],
    [".prose table, .comment-body table", data.tableLabel || "Table", null],
    [".table-wrap, .table-scroll", data.tableLabel || "Table", "region"],
    [".chart-figure", data.chartLabel || "Chart", null],
  ];
  const ADDED = "data-scroll-region";  // marks what this script set, so it can take it back

  function hasName(element) {
    return element.hasAttribute("aria-label") || element.hasAttribute("aria-labelledby")
      || (element.matches("table") && element.querySelector(":scope > caption"))
      || (element.matches("figure") && element.querySelector(":scope > figcaption"));
  }

  function update(element, label, role) {
    const overflows = element.scrollWidth > element.clientWidth + 1;
    if (overflows && !element.hasAttribute(ADDED) && !element.hasAttribute("tabindex")) {
      const added = ["tabindex"];
      element.setAttribute("tabindex", "0");
      if (role && !element.hasAttribute("role")) {
        element.setAttribute("role", role);
        added.push("role");
      }
      if (!hasName(element)) {
        element.setAttribute("aria-label", label);
        added.push("aria-label");
      }
      element.setAttribute(ADDED, added.join(" "));
    } else if (!overflows && element.hasAttribute(ADDED)) {
      element.getAttribute(ADDED).split(" ").forEach((name) => element.removeAttribute(name));
      element.removeAttribute(ADDED);
    }
  }

  const watched = new Map();  // element → [label, role]
  KINDS.forEach(([selector, label, role]) => {
    document.querySelectorAll(selector).forEach((element) => watched.set(element, [label, role]));
  });
  if (!watched.size) return;
  watched.forEach(([label, role], element) => update(element, label, role));
  // A phone turned sideways or a wider window can make a region fit, or stop fitting.
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver((entries) => entries.forEach(({ target }) => {
      const [label, role] = watched.get(target);
      update(target, label, role);
    }));
    watched.forEach((_, element) => observer.observe(element));
  } else {
    window.addEventListener("resize", () => watched.forEach(([label, role], element) => update(element, label, role)));
  }
})();
