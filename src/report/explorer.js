// initlab's report explorer: draws the per-layer histograms and statistics of this page
// from the JSON embedded in it (<script id="initlab-data">), as SVG. Plain JavaScript, no
// library, nothing loaded from the network: it works with the page opened from disk.
//
// The view (activation, seed, epoch, quantity, layer, statistic, hidden starts) lives in
// `state` and in the URL fragment, so that a link shows what its sender saw.
(function () {
  "use strict";
  // Errors are kept where a test (or a curious reader) can see them.
  var errors = (window.initlabErrors = []);
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
  });

  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("initlab-data").textContent);
  var root = document.getElementById("explorer");
  // The statistics of layers.csv, as the page's data names them (its statColumns, in the
  // order of each stats row's values after init, activation, seed, epoch and layer).
  var STATS = {};
  data.statColumns.forEach(function (c, i) {
    STATS[c.key] = { label: c.label, col: 5 + i, log: c.log };
  });
  // The epochs the slider moves through: every logged epoch with statistics, else the
  // epochs with histograms.
  var epochs = data.statEpochs.length ? data.statEpochs : data.epochs;

  var state = {
    act: data.activations[0],
    seed: data.seeds[0],
    epoch: epochs[0],
    q: "activation",
    layer: 1,
    stat: "activation_std",
    bq: (data.bandQuantities || ["pre_activation"])[0],
    hidden: {}
  };
  // Percentile bands over training (quantiles.csv, kept with --quantiles).
  var bands = data.bands || [];

  // ---- small helpers ---------------------------------------------------------------
  function el(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(SVG, tag) : document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function svgEl(tag, attrs, parent) {
    return el(tag, attrs, parent, true);
  }
  function num(v) {
    return Number(v); // "Infinity", "-Infinity" and "NaN" arrive as strings
  }
  function fmt(v) {
    if (!isFinite(v)) return String(v).replace("Infinity", "∞");
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(2);
  }
  function colorOf(init) {
    return data.colors[data.inits.indexOf(init)];
  }
  // The start's dash pattern ("" = solid), as in the pictures.
  function dashOf(init) {
    return (data.dashes || [])[data.inits.indexOf(init)] || "";
  }
  // A line sample in a start's colour and dash pattern.
  function lineSample(init, parent) {
    var s = svgEl("svg", { class: "sw", width: 26, height: 10, viewBox: "0 0 26 10" }, parent);
    var attrs = { x1: 1, y1: 5, x2: 25, y2: 5, stroke: colorOf(init), "stroke-width": 3 };
    if (dashOf(init)) attrs["stroke-dasharray"] = dashOf(init);
    svgEl("line", attrs, s);
    return s;
  }
  // Round ticks: the multiples in [lo, hi] of the smallest step of 1, 2 or 5 × 10^k that
  // is at least (hi − lo) / target (and at least minStep), as the pictures' axes.
  function niceTicks(lo, hi, target, minStep) {
    var raw = hi > lo ? (hi - lo) / target : 1;
    if (minStep && raw < minStep) raw = minStep;
    var e = Math.floor(Math.log10(raw)), m = 1;
    for (;;) {
      var found = [1, 2, 5].filter(function (c) {
        return c * Math.pow(10, e) >= raw * (1 - 1e-9);
      });
      if (found.length) { m = found[0]; break; }
      e += 1;
    }
    function at(i) {
      return e < 0 ? (i * m) / Math.pow(10, -e) : i * m * Math.pow(10, e);
    }
    var step = at(1), out = [];
    for (var i = Math.ceil(lo / step - 1e-9); i <= Math.floor(hi / step + 1e-9) && out.length < 200; i++) {
      out.push(i === 0 ? 0 : at(i));
    }
    return out;
  }
  // ±10^e as the pictures write it.
  function decade(e) {
    return { "-2": "0.01", "-1": "0.1", "0": "1", "1": "10", "2": "100" }[e] || "1e" + e;
  }
  // A tick label; `axis` names the axis for readers and tests.
  function tick(svg, x, y, text, anchor, axis) {
    svgEl("text", {
      x: x, y: y, "font-size": 10, "text-anchor": anchor, fill: "#555", class: "tick",
      "data-axis": axis
    }, svg).textContent = text;
  }
  // Light orange (layer 1) to dark purple (the deepest layer), as distributions.svg.
  function depthColor(layer, layers) {
    var t = layers > 1 ? Math.min((layer - 1) / (layers - 1), 1) : 0;
    function mix(a, b) {
      return Math.round(a + (b - a) * t);
    }
    return "rgb(" + mix(253, 45) + "," + mix(174, 0) + "," + mix(97, 75) + ")";
  }
  // The histogram epoch shown for the slider's epoch: the latest one at or before it.
  function histEpoch() {
    var best = data.epochs[0];
    data.epochs.forEach(function (e) {
      if (e <= state.epoch) best = e;
    });
    return best;
  }

  // ---- the URL fragment ----------------------------------------------------------
  function writeHash() {
    var hidden = Object.keys(state.hidden).filter(function (k) {
      return state.hidden[k];
    });
    var parts = [
      "act=" + encodeURIComponent(state.act),
      "seed=" + state.seed,
      "epoch=" + state.epoch,
      "q=" + state.q,
      "layer=" + state.layer,
      "stat=" + state.stat,
      "bands=" + state.bq,
      "hide=" + hidden.map(encodeURIComponent).join(",")
    ];
    var hash = "#" + parts.join("&");
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }
  function readHash() {
    location.hash
      .replace(/^#/, "")
      .split("&")
      .forEach(function (kv) {
        var i = kv.indexOf("=");
        if (i < 0) return;
        var k = kv.slice(0, i);
        var v = decodeURIComponent(kv.slice(i + 1));
        if (k === "act" && data.activations.indexOf(v) >= 0) state.act = v;
        if (k === "seed" && data.seeds.indexOf(+v) >= 0) state.seed = +v;
        if (k === "epoch" && epochs.indexOf(+v) >= 0) state.epoch = +v;
        if (k === "q" && data.quantities.indexOf(v) >= 0) state.q = v;
        if (k === "layer" && +v >= 1 && +v <= data.layers) state.layer = +v;
        if (k === "stat" && STATS[v]) state.stat = v;
        if (k === "bands" && (data.bandQuantities || []).indexOf(v) >= 0) state.bq = v;
        if (k === "hide") {
          state.hidden = {};
          kv.slice(i + 1)
            .split(",")
            .filter(Boolean)
            .forEach(function (n) {
              state.hidden[decodeURIComponent(n)] = true;
            });
        }
      });
  }

  // ---- the controls -----------------------------------------------------------------
  root.textContent = "";
  var controls = el("div", { class: "controls" }, root);
  function select(label, id, options, key, asNumber) {
    var wrap = el("label", {}, controls);
    wrap.appendChild(document.createTextNode(label + " "));
    var s = el("select", { id: id }, wrap);
    options.forEach(function (o) {
      var opt = el("option", { value: o }, s);
      opt.textContent = o;
    });
    s.addEventListener("change", function () {
      state[key] = asNumber ? +s.value : s.value;
      update();
    });
    return s;
  }
  var layerNumbers = [];
  for (var l = 1; l <= data.layers; l++) layerNumbers.push(l);
  var inputs = {
    act: select("activation", "ex-act", data.activations, "act"),
    seed: select("seed", "ex-seed", data.seeds, "seed", true),
    q: select("histogram of", "ex-q", data.quantities, "q"),
    layer: select("bars: layer", "ex-layer", layerNumbers, "layer", true),
    stat: select("statistic", "ex-stat", Object.keys(STATS), "stat"),
    bq: bands.length ? select("bands of", "ex-bq", data.bandQuantities, "bq") : null
  };
  var sliderWrap = el("div", { class: "slider" }, root);
  var play = el("button", { id: "ex-play", type: "button" }, sliderWrap);
  play.textContent = "▶ play";
  var slider = el(
    "input",
    { id: "ex-epoch", type: "range", min: 0, max: epochs.length - 1, step: 1, value: 0 },
    sliderWrap
  );
  var epochLabel = el("span", { id: "ex-epoch-label" }, sliderWrap);
  slider.addEventListener("input", function () {
    state.epoch = epochs[+slider.value];
    update();
  });
  // Play: one epoch step every 400 ms, from the start again once at the end.
  var timer = null;
  play.addEventListener("click", function () {
    if (timer) {
      clearInterval(timer);
      timer = null;
      play.textContent = "▶ play";
      return;
    }
    play.textContent = "❚❚ pause";
    timer = setInterval(function () {
      var i = (epochs.indexOf(state.epoch) + 1) % epochs.length;
      state.epoch = epochs[i];
      update();
    }, 400);
  });
  var legend = el("div", { class: "legend", id: "ex-legend" }, root);
  data.inits.forEach(function (init) {
    var b = el("button", {
      type: "button", class: "legend-init", "data-legend-init": init, "data-color": colorOf(init),
      "data-dash": dashOf(init)
    }, legend);
    lineSample(init, b);
    b.appendChild(document.createTextNode(init));
    b.addEventListener("click", function () {
      state.hidden[init] = !state.hidden[init];
      update();
    });
  });
  el("p", { class: "note" }, root).textContent =
    "Click a start to hide or show it. Bars: the chosen layer; lines: every layer on the same bins (darker = deeper). Hover for values." +
    (bands.length ? " Bands (below the statistic): the chosen layer's percentiles over training, 6.68–93.32, 15.87–84.13 and 30.85–69.15 darker inwards, the median as a line." : "");
  var readout = el("div", { id: "ex-readout", class: "readout" }, root);
  readout.textContent = " ";
  var panels = el("div", { id: "ex-panels", class: "panels" }, root);
  var statBox = el("div", { id: "ex-stats" }, root);
  var bandBox = el("div", { id: "ex-bands", class: "panels" }, root);

  // ---- drawing ----------------------------------------------------------------------
  var W = 360, H = 230, M = { l: 44, r: 8, t: 22, b: 34 };

  // The histograms of one start at the current view, by layer.
  function histsOf(init, epoch) {
    var seedIndex = data.seeds.indexOf(state.seed);
    var out = {};
    data.hists.forEach(function (h) {
      if (h[0] === data.inits.indexOf(init) && data.activations[h[1]] === state.act &&
          h[2] === seedIndex && h[3] === epoch && data.quantities[h[5]] === state.q) {
        out[h[4]] = h;
      }
    });
    return out;
  }

  function histogramPanel(init, epoch) {
    var box = el("div", { class: "hpanel", "data-init": init, "data-epoch": epoch }, panels);
    var byLayer = histsOf(init, epoch);
    var chosen = byLayer[state.layer];
    var title = el("div", { class: "ptitle" }, box);
    title.textContent = init + " · " + state.q + " · layer " + state.layer + " · epoch " + epoch;
    var svg = svgEl("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H }, box);
    if (!chosen) {
      svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#777" }, svg).textContent =
        "no histogram here";
      return;
    }
    var axis = data.axes[chosen[6]];
    var bins = axis.bins;
    var n = bins.length;
    // Fractions per bin of every layer on the chosen layer's axis.
    var lines = [];
    var top = 0;
    Object.keys(byLayer).forEach(function (k) {
      var h = byLayer[k];
      if (h[6] !== chosen[6]) return;
      var counts = new Array(n).fill(0), total = 0;
      for (var i = 0; i < h[7].length; i += 2) {
        counts[h[7][i]] = h[7][i + 1];
        total += h[7][i + 1];
      }
      var fr = counts.map(function (c) {
        return c / Math.max(total, 1);
      });
      fr.forEach(function (f) {
        top = Math.max(top, f);
      });
      lines.push({ layer: +k, counts: counts, total: total, fr: fr });
    });
    top = top || 1;
    var x = function (i) {
      return M.l + ((i + 0.5) / n) * (W - M.l - M.r);
    };
    var y = function (f) {
      return H - M.b - (f / top) * (H - M.t - M.b);
    };
    var bw = (W - M.l - M.r) / n;
    svgEl("line", { x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, stroke: "#999" }, svg);
    svgEl("text", { x: 4, y: M.t - 8, "font-size": 11, fill: "#555" }, svg).textContent =
      "share of values";
    // The share axis: round ticks with faint grid lines.
    niceTicks(0, top, 3).forEach(function (t) {
      svgEl("line", { x1: M.l, y1: y(t), x2: W - M.r, y2: y(t), stroke: "#eee" }, svg);
      tick(svg, M.l - 4, y(t) + 3, fmt(t), "end", "share");
    });
    // The bin axis: the pictures' round ticks (bin positions and labels).
    (axis.ticks || []).forEach(function (t) {
      svgEl("line", { x1: x(t[0]), y1: H - M.b, x2: x(t[0]), y2: H - M.b + 4, stroke: "#999" }, svg);
      tick(svg, x(t[0]), H - M.b + 14, t[1], "middle", "bins");
    });
    var chosenLine = null;
    lines.forEach(function (ln) {
      if (ln.layer === state.layer) chosenLine = ln;
    });
    // Bars of the chosen layer; each carries its bin and count for readers and tests.
    var g = svgEl("g", { class: "bars" }, svg);
    chosenLine.counts.forEach(function (c, i) {
      if (!c) return;
      var r = svgEl("rect", {
        x: x(i) - bw / 2, y: y(chosenLine.fr[i]), width: Math.max(bw - 0.5, 0.5),
        height: H - M.b - y(chosenLine.fr[i]), fill: colorOf(init), "fill-opacity": 0.55,
        "data-layer": state.layer, "data-bin-low": bins[i][0], "data-bin-high": bins[i][1],
        "data-count": c
      }, g);
      var text = "layer " + state.layer + ", bin [" + fmt(num(bins[i][0])) + ", " +
        fmt(num(bins[i][1])) + "): " + c + " of " + chosenLine.total + " (" +
        (100 * chosenLine.fr[i]).toFixed(1) + " %)";
      svgEl("title", {}, r).textContent = text;
      r.addEventListener("mouseenter", function () {
        readout.textContent = init + " · " + text;
      });
    });
    // A line per layer, darker = deeper.
    lines.forEach(function (ln) {
      var pts = ln.fr.map(function (f, i) {
        return x(i).toFixed(1) + "," + y(f).toFixed(1);
      });
      svgEl("polyline", {
        points: pts.join(" "), fill: "none", "stroke-width": ln.layer === state.layer ? 2 : 1.2,
        stroke: depthColor(ln.layer, data.layers - 1), "data-layer": ln.layer
      }, svg);
    });
  }

  // The chosen statistic per layer at the slider's epoch, one line per shown start.
  function statsPanel() {
    statBox.textContent = "";
    var st = STATS[state.stat];
    var seedIndex = data.seeds.indexOf(state.seed);
    var actIndex = data.activations.indexOf(state.act);
    var series = {};
    data.stats.forEach(function (r) {
      if (r[1] !== actIndex || r[2] !== seedIndex || r[3] !== state.epoch) return;
      var v = r[st.col];
      if (v === null || (st.log && !(v > 0))) return;
      var init = data.inits[r[0]];
      (series[init] = series[init] || []).push([r[4], v]);
    });
    var title = el("div", { class: "ptitle" }, statBox);
    title.textContent = st.label + " per layer at epoch " + state.epoch + " (seed " + state.seed + ")";
    var w = 2 * W, h = H;
    var svg = svgEl("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, id: "ex-stat-svg" }, statBox);
    var all = [];
    Object.keys(series).forEach(function (k) {
      if (!state.hidden[k]) series[k].forEach(function (p) { all.push(st.log ? Math.log10(p[1]) : p[1]); });
    });
    if (!all.length) {
      svgEl("text", { x: w / 2, y: h / 2, "text-anchor": "middle", fill: "#777" }, svg).textContent =
        "not measured for this activation";
      return;
    }
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (st.log) { lo = Math.floor(lo); hi = Math.ceil(hi); }
    // A linear axis starts at 0 unless the values go below it (an activation mean can).
    if (!st.log) { lo = Math.min(lo, 0); hi = Math.max(hi, lo + 1e-3); }
    if (hi <= lo) hi = lo + 1;
    var x = function (layer) {
      return M.l + ((layer - 1) / Math.max(data.layers - 1, 1)) * (w - M.l - M.r);
    };
    var y = function (v) {
      var t = st.log ? Math.log10(v) : v;
      return h - M.b - ((t - lo) / (hi - lo)) * (h - M.t - M.b);
    };
    svgEl("line", { x1: M.l, y1: h - M.b, x2: w - M.r, y2: h - M.b, stroke: "#999" }, svg);
    svgEl("text", { x: w / 2, y: h - 4, "text-anchor": "middle", "font-size": 11, fill: "#555" }, svg)
      .textContent = "layer (1 = first hidden, " + data.layers + " = output)";
    // Round ticks: decades (every 1, 2, 5, … of them) or multiples of 1, 2, 5 × 10^k.
    niceTicks(lo, hi, 4, st.log ? 1 : 0).forEach(function (t) {
      var ty = h - M.b - ((t - lo) / (hi - lo)) * (h - M.t - M.b);
      svgEl("line", { x1: M.l, y1: ty, x2: w - M.r, y2: ty, stroke: "#eee" }, svg);
      tick(svg, M.l - 4, ty + 3, st.log ? decade(t) : fmt(t), "end", "stat");
    });
    niceTicks(1, data.layers, 8, 1).forEach(function (l) {
      tick(svg, x(l), h - M.b + 14, String(l), "middle", "layer");
    });
    Object.keys(series).forEach(function (init) {
      if (state.hidden[init]) return;
      var g = svgEl("g", { "data-init": init }, svg);
      var pts = series[init].sort(function (a, b) { return a[0] - b[0]; });
      svgEl("polyline", {
        points: pts.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); }).join(" "),
        fill: "none", stroke: colorOf(init), "stroke-width": 2,
        "stroke-dasharray": dashOf(init) || "none"
      }, g);
      pts.forEach(function (p) {
        var c = svgEl("circle", { cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: colorOf(init) }, g);
        var text = init + " · layer " + p[0] + ": " + st.label + " " + fmt(p[1]);
        svgEl("title", {}, c).textContent = text;
        c.addEventListener("mouseenter", function () { readout.textContent = text; });
      });
    });
  }

  // The percentiles of the chosen layer's pre-activations or activations over training,
  // one panel per shown start (TensorBoard's distribution view): the pale band spans the
  // outer pair of levels, the darker one the next pair, and so on in; the line is the
  // median; a grey line marks the slider's epoch.
  function bandPanel(init) {
    var seedIndex = data.seeds.indexOf(state.seed);
    var actIndex = data.activations.indexOf(state.act);
    var qIndex = data.bandQuantities.indexOf(state.bq);
    var rows = bands
      .filter(function (r) {
        return r[0] === data.inits.indexOf(init) && r[1] === actIndex && r[2] === seedIndex &&
          r[4] === state.layer && r[5] === qIndex;
      })
      .sort(function (a, b) { return a[3] - b[3]; });
    var box = el("div", { class: "hpanel", "data-init": init }, bandBox);
    el("div", { class: "ptitle" }, box).textContent =
      init + " · " + state.bq + " percentiles · layer " + state.layer;
    var svg = svgEl("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H }, box);
    var levels = data.bandLevels, n = levels.length, mid = (n - 1) / 2;
    var all = [];
    rows.forEach(function (r) {
      r.slice(6).forEach(function (v) { if (v !== null) all.push(v); });
    });
    if (!all.length) {
      svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#777" }, svg).textContent =
        "no percentiles here";
      return;
    }
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (hi <= lo) { lo -= 1; hi += 1; }
    var e0 = epochs[0], e1 = Math.max(epochs[epochs.length - 1], e0 + 1);
    var x = function (e) { return M.l + ((e - e0) / (e1 - e0)) * (W - M.l - M.r); };
    var y = function (v) { return H - M.b - ((v - lo) / (hi - lo)) * (H - M.t - M.b); };
    niceTicks(lo, hi, 6).forEach(function (t) {
      svgEl("line", { x1: M.l, y1: y(t), x2: W - M.r, y2: y(t), stroke: "#eee" }, svg);
      tick(svg, M.l - 4, y(t) + 3, fmt(t), "end", "band");
    });
    niceTicks(e0, e1, 5, 1).forEach(function (e) {
      tick(svg, x(e), H - M.b + 14, String(e), "middle", "epoch");
    });
    svgEl("text", { x: W / 2, y: H - 4, "text-anchor": "middle", "font-size": 11, fill: "#555" }, svg)
      .textContent = "epoch";
    // Bands from the outer pair of levels in, each over the epochs where both ends exist.
    for (var k = 0; k < mid; k++) {
      var kept = rows.filter(function (r) { return r[6 + k] !== null && r[6 + n - 1 - k] !== null; });
      if (kept.length < 2) continue;
      var upper = kept.map(function (r) { return x(r[3]).toFixed(1) + "," + y(r[6 + n - 1 - k]).toFixed(1); });
      var lower = kept.slice().reverse().map(function (r) { return x(r[3]).toFixed(1) + "," + y(r[6 + k]).toFixed(1); });
      svgEl("polygon", {
        points: upper.concat(lower).join(" "), fill: colorOf(init),
        "fill-opacity": 0.12 + 0.12 * k, stroke: "none",
        "data-band": levels[k] + "-" + levels[n - 1 - k]
      }, svg);
    }
    var median = rows.filter(function (r) { return r[6 + mid] !== null; });
    svgEl("polyline", {
      points: median.map(function (r) { return x(r[3]).toFixed(1) + "," + y(r[6 + mid]).toFixed(1); }).join(" "),
      fill: "none", stroke: colorOf(init), "stroke-width": 2, class: "median"
    }, svg);
    median.forEach(function (r) {
      var c = svgEl("circle", {
        cx: x(r[3]), cy: y(r[6 + mid]), r: 2.5, fill: colorOf(init), "data-epoch": r[3],
        "data-median": r[6 + mid]
      }, svg);
      var text = init + " · layer " + state.layer + " · epoch " + r[3] + ": " +
        levels.map(function (p, i) { return "p" + p + " " + fmt(r[6 + i]); }).join(", ");
      svgEl("title", {}, c).textContent = text;
      c.addEventListener("mouseenter", function () { readout.textContent = text; });
    });
    svgEl("line", { x1: x(state.epoch), y1: M.t, x2: x(state.epoch), y2: H - M.b, stroke: "#888",
      "stroke-dasharray": "3 3", class: "now" }, svg);
  }

  function update() {
    // Controls follow the state (after a hash, or a play step).
    inputs.act.value = state.act;
    inputs.seed.value = String(state.seed);
    inputs.q.value = state.q;
    inputs.layer.value = String(state.layer);
    inputs.stat.value = state.stat;
    if (inputs.bq) inputs.bq.value = state.bq;
    slider.value = String(epochs.indexOf(state.epoch));
    var he = histEpoch();
    epochLabel.textContent = "epoch " + state.epoch + " (histograms at epoch " + he +
      "; kept at " + data.epochs.join(", ") + ")";
    legend.querySelectorAll("button").forEach(function (b) {
      var off = !!state.hidden[b.getAttribute("data-legend-init")];
      b.setAttribute("aria-pressed", off ? "false" : "true");
      b.className = "legend-init" + (off ? " off" : "");
    });
    panels.textContent = "";
    data.inits.forEach(function (init) {
      if (!state.hidden[init]) histogramPanel(init, he);
    });
    statsPanel();
    bandBox.textContent = "";
    if (bands.length) {
      data.inits.forEach(function (init) {
        if (!state.hidden[init]) bandPanel(init);
      });
    }
    writeHash();
    root.setAttribute("data-ready", "1");
  }

  readHash();
  window.addEventListener("hashchange", function () {
    readHash();
    update();
  });
  update();
})();
