/* Co-production Evidence Atlas: the explorer, the side-by-side view and copy buttons.
 * Runs on a static index (explore/studies.js) with no server and no other script.
 * Text from records is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // The index is written compact (render_compare.py: explorer_index): codes as positions in their facet's
  // terms, no empty fields, no title, container or DOI that is the study's CSL item's as plain text
  // (SAME_AS_CSL there; the pattern is csl.py's NOCASE), addresses as study_base + key. This gives the full form back, once.
  var SAME_AS_CSL = { title: "title", container: "container-title", doi: "DOI" };
  function expand(index) {
    if (index.expanded) return index;
    var terms = {};
    index.facets.forEach(function (f) { terms[f.field] = f.terms.map(function (t) { return t.value; }); });
    index.studies.forEach(function (s) {
      var codes = {};
      Object.keys(terms).forEach(function (f) {
        codes[f] = (s.codes[f] || []).map(function (i) { return terms[f][i]; });
      });
      s.codes = codes;
      s.url = index.study_base + s.key + "/";
      Object.keys(SAME_AS_CSL).forEach(function (f) {
        if (s[f] === undefined) s[f] = String(s.csl[SAME_AS_CSL[f]] || "").replace(/<span class="nocase">(.*?)<\/span>/g, "$1");
      });
      if (s.unconfirmed_fields === undefined) s.unconfirmed_fields = [];
    });
    index.expanded = true;
    return index;
  }

  function loadIndex(root, done) {
    if (window.ATLAS_INDEX) return done(expand(window.ATLAS_INDEX));
    var s = document.createElement("script");
    s.src = root.getAttribute("data-index");
    s.onload = function () { done(expand(window.ATLAS_INDEX)); };
    s.onerror = function () { root.textContent = "The study index could not be loaded."; };
    document.head.appendChild(s);
  }

  function readState() {
    var params = new URLSearchParams(window.location.search);
    var state = {};
    params.forEach(function (value, key) {
      state[key] = value.split(",").filter(function (v) { return v !== ""; });
    });
    return state;
  }

  function writeState(state) {
    var params = new URLSearchParams();
    Object.keys(state).sort().forEach(function (k) {
      if (state[k] && state[k].length) params.set(k, state[k].join(","));
    });
    var query = params.toString().replace(/%2C/g, ",");
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  /* the media type of each reference-manager format, by file extension (explorer lists and study pages) */
  var MEDIA_TYPES = { bib: "application/x-bibtex", ris: "application/x-research-info-systems",
                      json: "application/vnd.citationstyles.csl+json" };

  function download(name, type, text) {
    var a = el("a", { href: URL.createObjectURL(new Blob([text], { type: type })), download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function csvCell(v) {
    v = String(v);
    return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }

  /* ---------------- explorer ---------------- */

  function explorer(root, index) {
    var state = readState();
    var facets = index.facets;
    var labels = {};
    facets.forEach(function (f) {
      labels[f.field] = {};
      f.terms.forEach(function (t) { labels[f.field][t.value] = t.label; });
    });
    var years = index.studies.map(function (s) { return parseInt(s.year, 10); }).filter(function (y) { return !isNaN(y); });
    var minYear = Math.min.apply(null, years), maxYear = Math.max.apply(null, years);

    function matches(study, except) {
      for (var i = 0; i < facets.length; i++) {
        var f = facets[i].field;
        if (f === except) continue;
        var wanted = state[f];
        if (wanted && wanted.length) {
          var have = study.codes[f] || [];
          if (!wanted.some(function (v) { return have.indexOf(v) >= 0; })) return false;
        }
      }
      var y = parseInt(study.year, 10);
      if (state.from && state.from.length && !(y >= parseInt(state.from[0], 10))) return false;
      if (state.to && state.to.length && !(y <= parseInt(state.to[0], 10))) return false;
      if (state.q && state.q.length) {
        var q = state.q.join(" ").toLowerCase();
        var hay = (study.title + " " + study.authors.join(" ") + " " + study.container).toLowerCase();
        if (hay.indexOf(q) < 0) return false;
      }
      return true;
    }

    var form = el("form", { class: "atlas-facets", "aria-label": "Filters" });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var search = el("input", { type: "search", id: "atlas-q", name: "q", placeholder: "author or title" });
    form.appendChild(el("p", {}, [el("label", { for: "atlas-q", text: "Text " }), search]));
    var from = el("input", { type: "number", id: "atlas-from", min: String(minYear), max: String(maxYear), placeholder: String(minYear) });
    var to = el("input", { type: "number", id: "atlas-to", min: String(minYear), max: String(maxYear), placeholder: String(maxYear) });
    form.appendChild(el("fieldset", {}, [el("legend", { text: "Year" }),
      el("label", { for: "atlas-from", text: "from " }), from, el("label", { for: "atlas-to", text: " to " }), to]));
    var boxes = {};
    facets.forEach(function (f) {
      var fs = el("fieldset", { "data-facet": f.field }, [el("legend", { text: f.title })]);
      boxes[f.field] = {};
      f.terms.forEach(function (t) {
        var id = "atlas-" + f.field + "-" + t.value;
        var box = el("input", { type: "checkbox", id: id, name: f.field, value: t.value });
        var count = el("span", { class: "atlas-count" });
        boxes[f.field][t.value] = { box: box, count: count };
        fs.appendChild(el("div", { class: "atlas-choice" }, [box, el("label", { for: id, text: t.label + " " }, [count])]));
      });
      form.appendChild(fs);
    });
    var clear = el("button", { type: "button", text: "Clear all filters" });
    form.appendChild(clear);

    var status = el("p", { class: "atlas-status", role: "status", "aria-live": "polite" });
    var tools = el("p", { class: "atlas-tools" });
    var csvBtn = el("button", { type: "button", text: "Download CSV" });
    var bibBtn = el("button", { type: "button", text: "Download BibTeX" });
    var risBtn = el("button", { type: "button", text: "Download RIS" });
    var cslBtn = el("button", { type: "button", text: "Download CSL-JSON" });
    var apaBtn = el("button", { type: "button", text: "Download APA list" });
    var cmpBtn = el("button", { type: "button", text: "Compare selected studies" });
    [csvBtn, bibBtn, risBtn, cslBtn, apaBtn, cmpBtn].forEach(function (b) { tools.appendChild(b); tools.appendChild(document.createTextNode(" ")); });
    var list = el("ol", { class: "atlas-results", id: "atlas-results" });
    var comparison = el("div", { class: "atlas-comparison", id: "atlas-comparison" });
    root.appendChild(el("div", { class: "atlas-explorer-grid" }, [form,
      el("div", { class: "atlas-explorer-main" }, [status, tools, list, comparison])]));

    function current() { return index.studies.filter(function (s) { return matches(s, null); }); }

    function selected() { return state.compare || []; }

    function render() {
      var shown = current();
      facets.forEach(function (f) {
        var pool = index.studies.filter(function (s) { return matches(s, f.field); });
        f.terms.forEach(function (t) {
          var n = pool.filter(function (s) { return (s.codes[f.field] || []).indexOf(t.value) >= 0; }).length;
          var entry = boxes[f.field][t.value];
          entry.box.checked = (state[f.field] || []).indexOf(t.value) >= 0;
          entry.count.textContent = "(" + n + ")";
        });
      });
      search.value = (state.q || []).join(" ");
      from.value = (state.from || [""])[0];
      to.value = (state.to || [""])[0];
      status.textContent = shown.length + (shown.length === 1 ? " study" : " studies") + " of " + index.studies.length;
      list.textContent = "";
      shown.forEach(function (s) {
        var id = "atlas-pick-" + s.key;
        var pick = el("input", { type: "checkbox", id: id, value: s.key, "aria-label": "Select " + s.cite + " for comparison" });
        pick.checked = selected().indexOf(s.key) >= 0;
        pick.addEventListener("change", function () {
          var keys = selected().filter(function (k) { return k !== s.key; });
          if (pick.checked) keys.push(s.key);
          state.compare = keys;
          writeState(state);
          renderComparison();
        });
        var link = el("a", { href: s.url, text: s.cite + " " + s.title });
        list.appendChild(el("li", { "data-key": s.key }, [pick, document.createTextNode(" "), link]));
      });
      renderComparison();
    }

    function renderComparison() {
      comparison.textContent = "";
      var keys = selected();
      if (keys.length < 2) return;
      var studies = keys.map(function (k) { return index.studies.filter(function (s) { return s.key === k; })[0]; }).filter(Boolean);
      var head = el("tr", {}, [el("th", { scope: "col", text: "Code" })]);
      studies.forEach(function (s) { head.appendChild(el("th", { scope: "col" }, [el("a", { href: s.url, text: s.cite })])); });
      var body = el("tbody");
      facets.forEach(function (f) {
        var row = el("tr", {}, [el("th", { scope: "row", text: f.title })]);
        studies.forEach(function (s) {
          var vals = (s.codes[f.field] || []).map(function (v) { return labels[f.field][v] || v; });
          row.appendChild(el("td", { text: vals.length ? vals.join(", ") : "—" }));
        });
        body.appendChild(row);
      });
      comparison.appendChild(el("h2", { text: "Selected studies side by side" }));
      comparison.appendChild(el("div", { class: "atlas-matrix-wrap", role: "region", "aria-label": "Selected studies side by side", tabindex: "0" }, [
        el("table", { class: "atlas-matrix" }, [el("caption", { text: "The codes of the selected studies" }), el("thead", {}, [head]), body])]));
    }

    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t.type === "checkbox") {
        var vals = state[t.name] || [];
        vals = vals.filter(function (v) { return v !== t.value; });
        if (t.checked) vals.push(t.value);
        state[t.name] = vals;
      } else if (t === from) { state.from = from.value ? [from.value] : []; }
      else if (t === to) { state.to = to.value ? [to.value] : []; }
      writeState(state);
      render();
    });
    search.addEventListener("input", function () {
      state.q = search.value.trim() ? [search.value.trim()] : [];
      writeState(state);
      render();
    });
    clear.addEventListener("click", function () {
      state = {};
      writeState(state);
      render();
    });
    csvBtn.addEventListener("click", function () {
      // the columns of data/studies.csv less its long texts, named by the index (one list, in Python)
      var columns = index.csv_columns;
      function value(s, col) {
        var v = col in s.codes ? s.codes[col] : s[col];
        return Array.isArray(v) ? v.join("; ") : (v === undefined || v === null ? "" : String(v));
      }
      var rows = [columns];
      current().forEach(function (s) { rows.push(columns.map(function (c) { return value(s, c); })); });
      download("atlas-studies.csv", "text/csv", rows.map(function (r) { return r.map(csvCell).join(","); }).join("\n") + "\n");
    });
    bibBtn.addEventListener("click", function () {
      download("atlas-studies.bib", MEDIA_TYPES.bib, current().map(function (s) { return s.bibtex; }).join("\n"));
    });
    risBtn.addEventListener("click", function () {
      download("atlas-studies.ris", MEDIA_TYPES.ris, current().map(function (s) { return s.ris; }).join("\n"));
    });
    cslBtn.addEventListener("click", function () {
      download("atlas-studies.json", MEDIA_TYPES.json,
        JSON.stringify(current().map(function (s) { return s.csl; }), null, 2) + "\n");
    });
    apaBtn.addEventListener("click", function () {
      var refs = current().map(function (s) { return s.apa; }).sort(function (a, b) { return a.localeCompare(b); });
      download("atlas-reading-list.txt", "text/plain", refs.join("\n\n") + "\n");
    });
    cmpBtn.addEventListener("click", function () {
      if (selected().length < 2) { status.textContent = "Select two or more studies with their checkboxes to compare them."; return; }
      comparison.scrollIntoView();
    });
    render();
  }

  /* ---------------- side by side ---------------- */

  function sideBySide(root, index) {
    var state = readState();
    var side = index.side;  // which dimensions, in which order, and the rows each compares: from the field spec
    var dims = side.dims.map(function (field) { return index.facets.filter(function (f) { return f.field === field; })[0]; })
      .filter(function (f) { return f; });
    var byField = {};
    index.facets.forEach(function (f) { byField[f.field] = f; });
    var form = el("form", { class: "atlas-facets", "aria-label": "Choose what to compare" });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var dimSet = el("fieldset", {}, [el("legend", { text: "Compare" })]);
    dims.forEach(function (d) {
      var id = "atlas-dim-" + d.field;
      var r = el("input", { type: "radio", name: "dim", id: id, value: d.field });
      dimSet.appendChild(el("div", { class: "atlas-choice" }, [r, el("label", { for: id, text: d.title })]));
    });
    form.appendChild(dimSet);
    var valueSet = el("fieldset", {});
    form.appendChild(valueSet);
    var out = el("div", { class: "atlas-comparison" });
    var status = el("p", { role: "status", "aria-live": "polite" });
    root.appendChild(el("div", { class: "atlas-explorer-grid" }, [form, el("div", { class: "atlas-explorer-main" }, [status, out])]));

    function dim() { return (state.dim || [side.dims[0]])[0]; }

    function render() {
      var d = byField[dim()] || dims[0];
      form.querySelectorAll("input[name=dim]").forEach(function (r) { r.checked = r.value === d.field; });
      valueSet.textContent = "";
      valueSet.appendChild(el("legend", { text: d.title + ": choose two or more" }));
      var chosen = state.values || [];
      d.terms.forEach(function (t) {
        var id = "atlas-val-" + t.value;
        var box = el("input", { type: "checkbox", name: "values", id: id, value: t.value });
        box.checked = chosen.indexOf(t.value) >= 0;
        valueSet.appendChild(el("div", { class: "atlas-choice" }, [box, el("label", { for: id, text: t.label })]));
      });
      out.textContent = "";
      var cols = d.terms.filter(function (t) { return chosen.indexOf(t.value) >= 0; });
      if (cols.length < 2) { status.textContent = "Choose at least two to compare."; return; }
      status.textContent = "Comparing " + cols.map(function (c) { return c.label; }).join(", ") + ".";
      var rowsFields = side.rows[d.field];
      var studiesOf = {};
      cols.forEach(function (c) {
        studiesOf[c.value] = index.studies.filter(function (s) { return (s.codes[d.field] || []).indexOf(c.value) >= 0; });
      });
      var head = el("tr", {}, [el("th", { scope: "col", text: "" })]);
      cols.forEach(function (c) { head.appendChild(el("th", { scope: "col", text: c.label + " (" + studiesOf[c.value].length + ")" })); });
      var body = el("tbody");
      rowsFields.forEach(function (rf) {
        body.appendChild(el("tr", { class: "atlas-group" }, [el("th", { scope: "rowgroup", colspan: String(cols.length + 1), text: byField[rf].title })]));
        byField[rf].terms.forEach(function (t) {
          var counts = cols.map(function (c) {
            return studiesOf[c.value].filter(function (s) { return (s.codes[rf] || []).indexOf(t.value) >= 0; }).length;
          });
          if (!counts.some(function (n) { return n > 0; })) return;
          var row = el("tr", {}, [el("th", { scope: "row", text: t.label })]);
          counts.forEach(function (n) { row.appendChild(el("td", { class: n ? "atlas-n" : "atlas-gap", text: n ? String(n) : "gap" })); });
          body.appendChild(row);
        });
      });
      out.appendChild(el("div", { class: "atlas-matrix-wrap", role: "region", "aria-label": "Side by side", tabindex: "0" }, [
        el("table", { class: "atlas-matrix" }, [el("caption", { text: "Number of studies coded with each term" }), el("thead", {}, [head]), body])]));
    }

    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t.name === "dim") { state = { dim: [t.value], values: [] }; }
      else if (t.name === "values") {
        var vals = (state.values || []).filter(function (v) { return v !== t.value; });
        if (t.checked) vals.push(t.value);
        state.values = vals;
        state.dim = [dim()];
      }
      writeState(state);
      render();
    });
    render();
  }

  /* a study's reference files: the text printed on the page (element ref-<extension>), downloaded as
     <study key>.<extension> with the format's media type; the button follows the format's name */
  function downloadButtons() {
    document.querySelectorAll("[data-key] .atlas-ref-text[id^='ref-']").forEach(function (source) {
      var ext = source.id.slice(4);
      var name = source.previousElementSibling;
      var key = source.closest("[data-key]").getAttribute("data-key");
      if (!MEDIA_TYPES[ext] || !name || !name.classList.contains("atlas-ref-format")) return;
      var button = el("button", { type: "button", class: "atlas-download", text: "Download " + name.textContent.trim() });
      button.addEventListener("click", function () {
        download(key + "." + ext, MEDIA_TYPES[ext], source.textContent + "\n");
      });
      name.appendChild(document.createTextNode(" "));
      name.appendChild(button);
    });
  }

  /* copy buttons: made by this script, so they never appear where they cannot work; each follows
     its style's name and copies the reference below it */
  function copyButtons() {
    document.querySelectorAll(".atlas-cite-ref[id]").forEach(function (target) {
      var name = target.previousElementSibling;
      if (!name || !name.classList.contains("atlas-cite-style")) return;
      var button = el("button", { type: "button", class: "atlas-copy", text: "Copy",
                                  "aria-label": "Copy the " + name.textContent.trim() + " reference" });
      button.addEventListener("click", function () {
        var text = target.textContent;
        var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
        } else { fallback(text); done(); }
      });
      name.appendChild(document.createTextNode(" "));
      name.appendChild(button);
    });
  }

  function fallback(text) {
    var area = el("textarea", { "aria-hidden": "true" });
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable on the page */ }
    area.remove();
  }

  function search() {
    var box = document.getElementById("atlas-search");
    if (!box || !window.PagefindUI) return;
    new window.PagefindUI({ element: "#atlas-search", showSubResults: true, showImages: false,
                            resetStyles: false, autofocus: true });
    // Pagefind's input is labelled only by its title: give it a proper accessible name
    var tries = 0;
    (function label() {
      var input = box.querySelector("input");
      if (input) input.setAttribute("aria-label", "Search the atlas");
      else if (tries++ < 50) setTimeout(label, 40);
    })();
  }

  // Wide tables scroll sideways in the theme's wrapper: keyboard users must be able to reach it
  function scrollableTables() {
    var wraps = document.querySelectorAll(".md-typeset__scrollwrap");
    for (var i = 0; i < wraps.length; i++) {
      if (wraps[i].scrollWidth > wraps[i].clientWidth) {
        wraps[i].setAttribute("tabindex", "0");
        wraps[i].setAttribute("role", "region");
        wraps[i].setAttribute("aria-label", "Table (scrolls sideways)");
      }
    }
  }

  /* the ¶ link after each heading that has an id, as Python-Markdown's toc extension would write it
     (mkdocs.yml leaves it out of the pages: issue #17); the theme shows it on hover and focus */
  function permalinks() {
    document.querySelectorAll(["h1", "h2", "h3", "h4", "h5", "h6"].map(function (h) { return ".md-content article " + h + "[id]"; }).join(", ")).forEach(function (h) {
      if (h.querySelector(".headerlink")) return;
      h.appendChild(el("a", { class: "headerlink", href: "#" + h.id, title: "Permanent link", text: "\u00b6" }));
    });
  }

  function start() {
    permalinks();
    scrollableTables();
    copyButtons();
    downloadButtons();
    search();
    var ex = document.getElementById("atlas-explorer");
    if (ex) loadIndex(ex, function (index) { explorer(ex, index); });
    var sbs = document.getElementById("atlas-side-by-side");
    if (sbs) loadIndex(sbs, function (index) { sideBySide(sbs, index); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
