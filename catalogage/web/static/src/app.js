// Progressive enhancements: every page works without this script.
"use strict";

// Warn before leaving a form with unsaved changes (forms with data-unsaved-warning).
function warnOnUnsavedChanges(form) {
  const initial = new URLSearchParams(new FormData(form)).toString();
  let submitting = false;
  form.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (submitting) return;
    if (new URLSearchParams(new FormData(form)).toString() !== initial) {
      event.preventDefault();
      event.returnValue = form.dataset.unsavedWarning;
    }
  });
}

// Keyword suggestions: the input holds comma-separated keywords; suggestions for the
// one being typed come from the API (/tags/?prefix=) and complete the whole value.
function suggestKeywords(input) {
  const list = document.getElementById(input.getAttribute("list"));
  let pending = null;
  input.addEventListener("input", () => {
    const parts = input.value.split(",");
    const current = parts.pop().trim();
    const before = parts.map((p) => p.trim()).filter(Boolean);
    clearTimeout(pending);
    if (current.length < 2) return;
    pending = setTimeout(async () => {
      const url = `${input.dataset.keywordPicker}?limit=10&prefix=${encodeURIComponent(current)}`;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const tags = await response.json();
      list.replaceChildren(
        ...tags
          .filter((tag) => !before.includes(tag.name))
          .map((tag) => {
            const option = document.createElement("option");
            option.value = [...before, tag.name].join(", ");
            return option;
          }),
      );
    }, 200);
  });
}

// Search suggestions: dataset titles, keywords, organizations and coverage values
// matching the text being typed (/search/autocomplete), offered in the input's
// datalist with their kind as label. Answers to older keystrokes are ignored.
function suggestSearches(input) {
  const list = document.getElementById(input.getAttribute("list"));
  let pending = null;
  let latest = 0;
  input.addEventListener("input", () => {
    clearTimeout(pending);
    const text = input.value;
    if (text.trim().length < 2) {
      list.replaceChildren();
      return;
    }
    pending = setTimeout(async () => {
      const request = ++latest;
      const url = `${input.dataset.searchSuggestions}?q=${encodeURIComponent(text)}`;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || request !== latest) return;
      const suggestions = await response.json();
      list.replaceChildren(
        ...suggestions.map((suggestion) => {
          const option = document.createElement("option");
          option.value = suggestion.value;
          const kind = suggestion.kind[0].toUpperCase() + suggestion.kind.slice(1);
          option.label = list.dataset[`kind${kind}`] || "";
          return option;
        }),
      );
    }, 150);
  });
}

// Move the focus to the error summary or conflict message so screen readers announce it.
function focusMessage() {
  const message = document.getElementById("conflit") || document.getElementById("erreurs");
  if (message) message.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-unsaved-warning]").forEach(warnOnUnsavedChanges);
  document.querySelectorAll("input[data-keyword-picker]").forEach(suggestKeywords);
  document.querySelectorAll("input[data-search-suggestions]").forEach(suggestSearches);
  focusMessage();
});
