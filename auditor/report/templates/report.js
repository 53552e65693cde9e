// Filtering by severity, provider, owner, rule and text. Without this script every item stays visible.
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  bar.hidden = false;
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter-item]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-filter-group]"));
  var fields = {
    severity: document.getElementById("f-severity"),
    provider: document.getElementById("f-provider"),
    owner: document.getElementById("f-owner"),
    rule: document.getElementById("f-rule"),
    search: document.getElementById("f-search")
  };
  var count = document.getElementById("f-count");
  var texts = items.map(function (el) { return el.textContent.toLowerCase(); });

  function has(list, value) { return (" " + list + " ").indexOf(" " + value + " ") >= 0; }

  function apply() {
    var severity = fields.severity.value, provider = fields.provider.value, owner = fields.owner.value;
    var rule = fields.rule.value, query = fields.search.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (el, i) {
      var d = el.dataset;
      var ok = (!severity || has(d.severity, severity)) && (!provider || d.provider === provider) &&
        (!owner || d.owner === owner) && (!rule || has(d.rules, rule)) && (!query || texts[i].indexOf(query) >= 0);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector("[data-filter-item]:not([hidden])"); });
    count.textContent = shown + " of " + items.length + " items shown";
  }

  Object.keys(fields).forEach(function (name) {
    fields[name].addEventListener(name === "search" ? "input" : "change", apply);
  });
  document.getElementById("f-reset").addEventListener("click", function () {
    Object.keys(fields).forEach(function (name) { fields[name].value = ""; });
    apply();
  });
  apply();
}());
