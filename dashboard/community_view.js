// The community at work (dashboard/community_view.py): one side's grids at the page's week, drawn from the model's
// weekly state. Each tile is a grid: one dot per demand its residents raised this week (or per N demands, said in
// the legend), green answered, amber waiting, red unmet; the tile glows with the share of its residents served by a
// running project; the counts of residents volunteering and of projects are written on it (in compact mode: in its
// tooltip, and summed in a line under the tiles). Under the tiles: who answered the week's demands, and the money
// into and out of the community fund. Each week's dots fade in, tile after tile (a CSS animation), so Play shows the
// community acting week after week.
const NS = "http://www.w3.org/2000/svg";
const MIN_TILES_PX = 160;  // compact mode never scales the tiles below this height
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                          "'": "&#39;"}[c]));

export default function (component) {
  const { data, parentElement } = component;
  let root = parentElement.querySelector(".community-view");
  if (!root) {
    root = document.createElement("div");
    root.className = "community-view";
    parentElement.appendChild(root);
  }
  const s = data, fs = s.font_size, cols = s.cols, rows = Math.ceil(s.grids.length / cols);
  const width = Math.max(280, root.clientWidth || parentElement.clientWidth || 600);
  const gap = 8, tileW = (width - gap * (cols - 1)) / cols;
  const dotR = Math.max(2.5, Math.min(7, tileW / 26)), per = s.per_dot, pitch = 2.6 * dotR;
  const perRow = Math.max(1, Math.floor((tileW - 16) / pitch)), top = fs + 14;
  // the tiles' height: the most dots of any tile, then two lines (residents volunteering, projects)
  const most = Math.max(1, ...s.grids.map((g) => ["answered", "waiting", "unmet"]
    .reduce((n, kind) => n + Math.ceil(g[kind] / per), 0)));
  // compact (presentation mode, A and B beside the readout on one screen): no per-tile counts (they are in the tile's
  // tooltip and, summed, in the line under the tiles) and, if still too tall, the tiles scaled to the screen's height
  const lines = s.compact ? 0 : 2;
  const tileH = top + Math.ceil(most / perRow) * pitch + lines * (fs + 4) + (s.compact ? 2 : 6);
  const H = rows * (tileH + gap);
  let svg = `<svg class="tiles" xmlns="${NS}" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}">`;
  s.grids.forEach((g, i) => {
    const x = (i % cols) * (tileW + gap), y = Math.floor(i / cols) * (tileH + gap);
    const glow = g.residents > 0 ? g.project_residents / g.residents : 0;
    svg += `<g class="grid" data-grid="${g.grid}" data-raised="${g.raised}" data-answered="${g.answered}"` +
      ` data-waiting="${g.waiting}" data-unmet="${g.unmet}" data-volunteering="${g.volunteering}"` +
      ` data-projects="${g.projects}" transform="translate(${x},${y})">` +
      `<rect width="${tileW}" height="${tileH}" rx="6" fill="#F4F4F4" stroke="#BBB"/>` +
      `<rect class="glow" width="${tileW}" height="${tileH}" rx="6" fill="#F6C343" opacity="${(0.55 * glow).toFixed(3)}"/>` +
      `<title>${esc(g.label)}: ${esc(g.volunteers)} · ${esc(g.projects_text)}</title>` +
      `<text x="8" y="${fs + 4}" font-size="${fs}" font-weight="600">${esc(g.label)}</text>`;
    // the dots: answered, waiting, unmet, in rows under the label
    // (one fade-in per tile, the tiles one after another: animating each dot cost a quarter of Play's redraws)
    const kinds = [["answered", "#1B7F3B"], ["waiting", "#E69F00"], ["unmet", "#C0392B"]];
    svg += `<g class="dots" style="animation-delay:${(i * 40) % 600}ms">`;
    let k = 0;
    for (const [kind, color] of kinds) {
      const n = Math.ceil(g[kind] / per);
      for (let j = 0; j < n; j++, k++) {
        const cx = 8 + dotR + (k % perRow) * pitch, cy = top + dotR + Math.floor(k / perRow) * pitch;
        svg += `<circle class="dot ${kind}" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${dotR.toFixed(1)}"` +
          ` fill="${color}"/>`;
      }
    }
    svg += "</g>";
    if (!s.compact) {
      svg += `<text x="8" y="${tileH - fs - 10}" font-size="${fs}">${esc(g.volunteers)}</text>` +
        `<text x="8" y="${tileH - 7}" font-size="${fs}">${esc(g.projects_text)}</text>`;
    }
    svg += "</g>";
  });
  svg += "</svg>";
  const handlers = s.handlers.map((h) => `<span class="item"><span class="swatch" style="background:${h.color}"></span>` +
    `${esc(h.label)} <b>${esc(h.value)}</b></span>`).join("");
  const legend = s.legend.map((l) => `<span class="item"><span class="swatch round" style="background:${l.color}">` +
    `</span>${esc(l.label)}</span>`).join("");
  const small = s.compact ? fs - 3 : fs;  // the lines around the tiles in compact mode
  const totals = s.compact ? `<div class="totals" style="font-size:${small}px">${esc(s.totals)}</div>` : "";
  root.innerHTML = `<div class="title" title="${esc(s.title)}" style="font-size:${fs + 3}px">${esc(s.title)}</div>` +
    `<div class="legend" style="font-size:${small}px">${legend}</div>` + svg + totals +
    `<div class="handlers" style="font-size:${small}px"><span class="head">${esc(s.handlers_title)}</span>${handlers}</div>` +
    `<div class="fund" style="font-size:${small}px"><span class="head">${esc(s.fund_title)}</span>` +
    `<span class="in">▲ ${esc(s.fund_in)}</span><span class="out">▼ ${esc(s.fund_out)}</span></div>`;
  root.classList.toggle("compact", !!s.compact);
  root._fit = s.compact ? () => fit(root, width, H) : null;
  if (root._fit) {
    root._fit();
    if (!root._observer) {  // the column can narrow after drawing (a scroll bar appears, the sidebar opens): fit again
      root._observer = new ResizeObserver(() => root._fit && root._fit());
      root._observer.observe(parentElement);
    }
  }
}

// compact mode: keep the view on the first screen, the tiles scaled down (never below MIN_TILES_PX) to the height
// left between the lines above them and the lines under them
function fit(root, width, H) {
  const tiles = root.querySelector("svg.tiles");
  if (!tiles) return;
  const box = tiles.getBoundingClientRect(), whole = root.getBoundingClientRect();
  const below = whole.bottom - box.bottom;
  const room = window.innerHeight - (box.top + window.scrollY) - below - 8;
  const h = Math.max(MIN_TILES_PX, Math.min(H, room));
  if (Math.abs(h - box.height) < 1) return;
  tiles.setAttribute("height", h.toFixed(0));
  tiles.setAttribute("width", (width * h / H).toFixed(0));
}
