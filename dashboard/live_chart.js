// The live chart of the workshop page: one indicator over the weeks, A and B, drawn as SVG in the browser.
//
// Why not plotly: a Step or a Play tick redraws the page, and each plotly chart cost the browser 0.04–0.05 s
// a redraw on the workshop machine, plus loading plotly's 4 MB script on the first screen
// (benchmarks/results.md). This draws the same chart (dashboard.figures.trajectory_spec: title, axes with
// units, the plan target dotted, lever changes dash-dotted and marked "B ▸ 53", the smoothed line over the
// faint week-by-week one) and keeps its element between redraws: only the data change.
//
// Hover: a vertical rule at the week under the pointer and a box with A's and B's values there.
//
// Play: the page brings several new weeks at a time (one run of the page every ~0.3 s, each the asked speed times
// the time since the last). The chart shows them one week after another over the time since the previous data
// came, so the lines advance at the asked pace, a week at a time, between two runs of the page. A Step (one new
// week), a jump back or a pause of more than REVEAL_MAX_MS is drawn at once.

const NS = "http://www.w3.org/2000/svg";
const GROUPED = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function escapeText(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// A "nice" step (1, 2 or 5 times a power of ten) giving about `count` intervals over `span`.
function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function ticks(lo, hi, count) {
  const step = niceStep(hi - lo, count);
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { values: out, step };
}

function decimalsFor(step) {
  return Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9)));
}

// Tick labels: per cent for rates (as many decimals as the step needs), grouped whole numbers otherwise.
function tickFormat(spec, step) {
  if (spec.percent) {
    const d = decimalsFor(step * 100);
    return (v) => (v * 100).toFixed(d) + "%";
  }
  const d = decimalsFor(step);
  const f = new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  return (v) => f.format(v);
}

// Values in the hover box: rates to 0.1 %, others to one decimal with grouping.
function valueFormat(spec) {
  if (spec.percent) return (v) => (v * 100).toFixed(1) + " %";
  const f = new Intl.NumberFormat("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 1 });
  return (v) => f.format(v);
}

// The SVG path of a line through (x, y) points; a null y breaks the line.
function pathOf(xs, ys, sx, sy) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !isFinite(y)) { pen = false; continue; }
    d += (pen ? "L" : "M") + sx(xs[i]).toFixed(1) + "," + sy(y).toFixed(1);
    pen = true;
  }
  return d;
}

function extent(spec) {
  let lo = Infinity, hi = -Infinity, xlo = Infinity, xhi = -Infinity;
  for (const line of spec.lines) {
    for (const ys of [line.y, line.raw || []]) {
      for (const y of ys) if (y !== null && isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    }
    if (line.x.length) { xlo = Math.min(xlo, line.x[0]); xhi = Math.max(xhi, line.x[line.x.length - 1]); }
  }
  if (spec.target) { lo = Math.min(lo, spec.target.value); hi = Math.max(hi, spec.target.value); }
  if (!isFinite(lo)) { lo = 0; hi = 1; }  // no value yet: an empty 0–1 axis
  if (spec.from_zero) lo = Math.min(0, lo);
  if (hi - lo < 1e-9) { hi = lo + (spec.percent ? 0.01 : 1); }
  const pad = (hi - lo) * 0.06;
  if (!spec.from_zero || lo < 0) lo -= pad;
  hi += pad;
  for (const e of spec.events) { xlo = Math.min(xlo, e.x - 0.5); xhi = Math.max(xhi, e.x + 0.5); }
  if (!isFinite(xlo)) { xlo = 0; xhi = 1; }
  if (xhi - xlo < 1) xhi = xlo + 1;
  return { lo, hi, xlo, xhi };
}

function render(root, spec, width) {
  const fs = spec.font_size, H = spec.height;
  const { lo, hi, xlo, xhi } = extent(spec);
  const yt = ticks(lo, hi, spec.large ? 4 : 5);
  const yfmt = tickFormat(spec, yt.step);
  const ylabels = yt.values.map(yfmt);
  const longest = Math.max(...ylabels.map((s) => s.length), 1);
  const left = Math.round(fs * 1.6 + longest * fs * 0.58 + 10);  // y title (rotated) + tick labels
  const top = Math.round(fs * 1.5 + 14 + (spec.events.length ? fs + 6 : 0));  // title, then the event marks
  const bottom = Math.round(fs * 2.9 + 8);  // tick labels and x title
  const right = 14;
  const pw = Math.max(40, width - left - right), ph = Math.max(40, H - top - bottom);
  const sx = (x) => left + ((x - xlo) / (xhi - xlo)) * pw;
  const sy = (y) => top + (1 - (y - lo) / (hi - lo)) * ph;
  const xt = ticks(xlo, xhi, Math.max(2, Math.floor(pw / (fs * 5))));
  const xticks = xt.values.filter((v) => Math.abs(v - Math.round(v)) < 1e-9);

  let svg = `<svg class="main-svg" xmlns="${NS}" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}"` +
    ` style="font-family:${escapeText(spec.font)};font-size:${fs}px">`;
  svg += `<text class="gtitle" x="${left}" y="${fs * 1.3 + 4}" style="font-size:${fs + (spec.large ? 4 : 2)}px">` +
    `${escapeText(spec.title)}</text>`;
  // y grid and tick labels
  svg += `<g class="ytick">`;
  yt.values.forEach((v, i) => {
    const y = sy(v).toFixed(1);
    svg += `<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#EBEBEB"/>` +
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${ylabels[i]}</text>`;
  });
  svg += `</g>`;
  svg += `<text class="ytitle" transform="translate(${fs * 0.9 + 2},${top + ph / 2}) rotate(-90)" text-anchor="middle"` +
    ` fill="#444">${escapeText(spec.y_title)}</text>`;
  // x axis, ticks and title
  const base = top + ph;
  svg += `<line x1="${left}" x2="${left + pw}" y1="${base}" y2="${base}" stroke="#BBBBBB"/><g class="xtick">`;
  for (const v of xticks) {
    const x = sx(v).toFixed(1);
    svg += `<line x1="${x}" x2="${x}" y1="${base}" y2="${base + 5}" stroke="#BBBBBB"/>` +
      `<text x="${x}" y="${base + fs + 6}" text-anchor="middle" fill="#444">${GROUPED.format(v)}</text>`;
  }
  svg += `</g><text class="xtitle" x="${left + pw / 2}" y="${H - 6}" text-anchor="middle" fill="#444">` +
    `${escapeText(spec.x_title)}</text>`;
  // the plan target, dotted, labelled at the left
  if (spec.target) {
    const y = sy(spec.target.value).toFixed(1);
    svg += `<g class="target"><line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#333" stroke-width="1"` +
      ` stroke-dasharray="2,3"/><text x="${left + 4}" y="${y - 4}" fill="#333" style="font-size:${spec.large ? fs : 11}px">` +
      `${escapeText(spec.target.text)}</text></g>`;
  }
  // lever changes: a dash-dot line between the week and the next, marked above the plot; the change on hover
  for (const e of spec.events) {
    const x = sx(e.x).toFixed(1);
    svg += `<g class="event"><title>${escapeText(e.hover)}</title><line x1="${x}" x2="${x}" y1="${top}" y2="${base}"` +
      ` stroke="${e.color}" stroke-width="1.5" stroke-dasharray="6,3,1.5,3"/><text x="${x}" y="${top - 5}"` +
      ` text-anchor="middle" fill="${e.color}" style="font-size:${spec.large ? fs : 12}px">${escapeText(e.text)}</text></g>`;
  }
  // the lines: the week-by-week one faint behind the smoothed one
  svg += `<g class="lines">`;
  for (const line of spec.lines) {
    if (line.raw) {
      svg += `<path class="raw-${line.side}" d="${pathOf(line.x, line.raw, sx, sy)}" fill="none" stroke="${line.color}"` +
        ` stroke-opacity="0.25" stroke-width="1"/>`;
    }
    const dash = line.dash === "dash" ? ` stroke-dasharray="8,5"` : "";
    svg += `<path class="line-${line.side}" data-weeks="${line.x.length}" d="${pathOf(line.x, line.y, sx, sy)}"` +
      ` fill="none" stroke="${line.color}" stroke-width="${spec.large ? 2.6 : 2.2}"${dash} stroke-linejoin="round"/>`;
  }
  svg += `</g><line class="rule" x1="0" x2="0" y1="${top}" y2="${base}" stroke="#888" stroke-width="1"` +
    ` visibility="hidden"/><rect class="hover-area" x="${left}" y="${top}" width="${pw}" height="${ph}"` +
    ` fill="transparent"/></svg>`;

  const legend = spec.lines.map((line) => `<span class="item"><svg width="28" height="10"><line x1="0" x2="28" y1="5"` +
    ` y2="5" stroke="${line.color}" stroke-width="2.4"${line.dash === "dash" ? ' stroke-dasharray="6,4"' : ""}/></svg>` +
    `${escapeText(line.name)}</span>`).join("");
  root.innerHTML = svg + `<div class="legend" style="font-family:${escapeText(spec.font)};font-size:${fs}px">` +
    `${legend}</div><div class="tip" style="font-family:${escapeText(spec.font)};font-size:${fs}px"></div>`;
  root.dataset.key = spec.key;
  root._drawnWidth = width;
  hover(root, spec, { sx, left, pw, xlo, xhi });
}

function hover(root, spec, geo) {
  const area = root.querySelector(".hover-area"), rule = root.querySelector(".rule"), tip = root.querySelector(".tip");
  const fmt = valueFormat(spec);
  area.addEventListener("mousemove", (ev) => {
    const box = area.getBoundingClientRect();
    const x = Math.round(geo.xlo + ((ev.clientX - box.left) / box.width) * (geo.xhi - geo.xlo));
    const rows = [];
    for (const line of spec.lines) {
      const i = line.x.indexOf(x);
      if (i >= 0 && line.y[i] !== null) rows.push(`<span style="color:${line.color}">■</span> ${escapeText(line.name)}: ${fmt(line.y[i])}`);
    }
    if (!rows.length) { tip.style.display = "none"; rule.setAttribute("visibility", "hidden"); return; }
    const px = geo.sx(x);
    rule.setAttribute("x1", px); rule.setAttribute("x2", px); rule.setAttribute("visibility", "visible");
    tip.innerHTML = `${escapeText(spec.x_title)} ${x}<br>${rows.join("<br>")}`;
    tip.style.display = "block";
    const rootBox = root.getBoundingClientRect();
    const w = tip.offsetWidth;  // right of the pointer if the box fits in the chart, else left of it
    const x0 = px + 12 + w <= rootBox.width ? px + 12 : Math.max(0, px - 12 - w);
    tip.style.left = `${x0}px`;
    tip.style.top = `${ev.clientY - rootBox.top + 10}px`;
  });
  area.addEventListener("mouseleave", () => { tip.style.display = "none"; rule.setAttribute("visibility", "hidden"); });
}

const REVEAL_MAX_MS = 1500;

function lastWeek(spec) {
  return Math.max(-Infinity, ...spec.lines.map((line) => (line.x.length ? line.x[line.x.length - 1] : -Infinity)));
}

// The chart as it stood at week `until`: the lines (and lever-change marks) up to that week.
function upTo(spec, until) {
  const lines = spec.lines.map((line) => {
    let n = line.x.length;
    while (n > 0 && line.x[n - 1] > until) n--;
    return { ...line, x: line.x.slice(0, n), y: line.y.slice(0, n), raw: line.raw ? line.raw.slice(0, n) : null };
  });
  return { ...spec, lines, events: spec.events.filter((e) => e.x <= until + 0.5) };
}

export default function (component) {
  const { data, parentElement } = component;
  let root = parentElement.querySelector(":scope > .live-chart");
  if (!root) {
    root = document.createElement("div");
    root.className = "live-chart";
    parentElement.appendChild(root);
  }
  // A new call comes with each run of the page, not always after the last one's clean-up: stop what it left.
  cancelAnimationFrame(root._frame);
  if (root._observer) root._observer.disconnect();
  const width = () => Math.max(280, Math.floor(root.clientWidth || parentElement.clientWidth || 600));
  const now = performance.now();
  const last = lastWeek(data), shown = root._shownWeek, since = now - (root._dataAt || -Infinity);
  const weeks = last - shown;
  root._dataAt = now;
  let current = data;
  const draw = () => render(root, current, width());
  if (root._spec && root._spec.key === data.key && weeks > 1 && weeks < 1000 && since < REVEAL_MAX_MS) {
    const start = now, span = since, from = shown;
    const stepFrame = (t) => {
      const week = Math.min(last, from + Math.max(1, Math.floor(((t - start) / span) * weeks)));
      if (week !== root._shownWeek) {
        current = week >= last ? data : upTo(data, week);
        root._shownWeek = week;
        draw();
      }
      if (week < last) root._frame = requestAnimationFrame(stepFrame);
    };
    root._frame = requestAnimationFrame(stepFrame);
  } else {
    root._shownWeek = last;
    draw();
  }
  root._spec = data;
  root._observer = new ResizeObserver(() => {
    if (Math.abs(Math.floor(root.clientWidth) - root._drawnWidth) > 1) draw();
  });
  root._observer.observe(root);
  return () => { cancelAnimationFrame(root._frame); root._observer.disconnect(); };
}
