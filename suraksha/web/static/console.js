// Suraksha console: the little the pages need besides htmx. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // Keyboard shortcuts: an element with data-shortcut="k" is clicked (or focused, for form fields) when
  // k is pressed outside a text field. A list of them is shown where the page prints one.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) {
      if (event.key === "Escape" && target.blur) target.blur();
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var element = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (!element) return;
    event.preventDefault();
    var elementTag = element.tagName.toLowerCase();
    if (elementTag === "input" && (element.type === "radio" || element.type === "checkbox")) {
      element.click();
    } else if (elementTag === "input" || elementTag === "textarea" || elementTag === "select") {
      element.focus();
    } else {
      element.click();
    }
  });

  // A form with data-confirm asks before it is sent (for consequential, hard-to-undo actions).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
