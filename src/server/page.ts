/**
 * The inspector's web page, served at `/` by `attnvision serve`: drop, pick or paste a photo, it is
 * POSTed to `/inspect`, and the page shows every label's probability and severity, the verdict at the
 * model's thresholds or one set with the slider (re-decided in the page from the returned scores, no
 * new request), and the
 * tile heatmap of the chosen label drawn over the photo. One self-contained HTML document: no
 * external scripts, styles or fonts. With `browserMode` (onnxruntime-web installed next to the
 * server) a switch runs the model in the page instead (quality/browser.ts on onnxruntime-web, files
 * from assets.ts): the photo then never leaves the browser.
 */

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function inspectorPage(opts: { model: string; labels: readonly string[]; threshold: number; perLabel: boolean; maxBytes: number; browserMode?: boolean }): string {
  const boot = JSON.stringify({ labels: opts.labels, threshold: opts.threshold, perLabel: opts.perLabel, maxBytes: opts.maxBytes, maxMb: formatMb(opts.maxBytes), browserMode: !!opts.browserMode }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>attnvision inspector</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f2; color: #222; }
  header { background: #222; color: #fff; padding: 12px 20px; }
  header h1 { font-size: 18px; margin: 0; display: inline; }
  header span { color: #aaa; font-size: 13px; margin-left: 12px; }
  main { display: flex; flex-wrap: wrap; gap: 20px; padding: 20px; }
  #drop { flex: 1 1 480px; min-height: 320px; border: 2px dashed #999; border-radius: 8px; background: #fff;
          display: flex; align-items: center; justify-content: center; position: relative; cursor: pointer; }
  #drop.over { border-color: #d60; background: #fff6ee; }
  #drop p { color: #777; text-align: center; }
  canvas { max-width: 100%; display: none; }
  #side { flex: 0 1 380px; }
  #verdict { font-size: 22px; font-weight: 600; margin: 0 0 8px; min-height: 30px; }
  #verdict.clean { color: #1a7f37; } #verdict.problem { color: #b42318; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  td { padding: 5px 8px; border-bottom: 1px solid #eee; font-size: 14px; }
  tr.sel td { background: #fff1e0; } tr { cursor: pointer; }
  .bar { height: 10px; background: #eee; width: 120px; position: relative; }
  .bar div { position: absolute; left: 0; top: 0; bottom: 0; background: #d60; }
  .bar i { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #222; }
  #error { color: #b42318; white-space: pre-wrap; }
  label { font-size: 14px; }
  small { color: #777; }
</style>
</head>
<body>
<header><h1>attnvision inspector</h1><span>model: ${esc(opts.model)}</span></header>
<main>
  <div id="drop" tabindex="0" aria-label="drop a photo here">
    <p id="hint">Drop a photo here, click to choose one, or paste it.<br><small>up to ${formatMb(opts.maxBytes)} MB; JPEG, PNG, WebP, TIFF, GIF, AVIF, BMP</small></p>
    <canvas id="view"></canvas>
    <input id="file" type="file" accept="image/*" hidden>
  </div>
  <div id="side">
    <p id="verdict"></p>
    <p id="meta"><small></small></p>
    <label>threshold <input id="thr" type="range" min="0.05" max="0.95" step="0.01"> <output id="thrv"></output></label>
    <p id="where" hidden><label><input id="local" type="checkbox"> run the model in this browser <small>(onnxruntime-web; the photo is not uploaded)</small></label></p>
    <table id="scores"><tbody></tbody></table>
    <p><small>Click a label to see where it is: each tile is tinted by that label's probability.</small></p>
    <p id="error" role="alert"></p>
  </div>
</main>
<script>
const BOOT = ${boot};
const $ = (id) => document.getElementById(id);
// override: one threshold for every label once the slider moves; before that the model's own.
let result = null, image = null, selected = 0, override = null;
$('thr').value = BOOT.threshold;
$('thrv').textContent = BOOT.perLabel ? 'calibrated per label' : BOOT.threshold.toFixed(2);
const thresholdOf = (k) => (override !== null ? override : result.thresholds[k]);

// The photo shown, and a counter so that a late answer for an earlier photo is dropped.
let current = null, picks = 0;
function clearResult() {
  result = null;
  $('scores').tBodies[0].textContent = '';
  $('meta').firstChild.textContent = '';
}

function pick(file) {
  if (!file) return;
  current = file;
  const id = ++picks;
  $('error').textContent = '';
  clearResult();
  if (file.size > BOOT.maxBytes) { image = null; draw(); $('verdict').textContent = ''; $('error').textContent = file.name + ': ' + (file.size / 1e6).toFixed(1) + ' MB is over the ' + BOOT.maxMb + ' MB limit'; return; }
  $('verdict').textContent = 'inspecting ' + file.name + ' ...'; $('verdict').className = '';
  image = null; draw();
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => { if (id === picks) { image = img; draw(); } };
  img.src = url;
  ($('local').checked ? inspectHere(file) : fetch('inspect', { method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-File-Name': encodeURIComponent(file.name) } })
    .then(async (r) => { const text = await r.text(); let j = null; try { j = JSON.parse(text); } catch { /* a proxy's or Node's own page */ } if (!r.ok || !j) throw new Error((j && j.error) || ('HTTP ' + r.status + ' ' + r.statusText)); return j; }))
    .then((j) => { if (id !== picks) return; result = j; selected = j.scores.reduce((b, s, k, a) => (s.probability > a[b].probability ? k : b), 0); render(); draw(); })
    .catch((e) => { if (id !== picks) return; clearResult(); $('verdict').textContent = ''; $('error').textContent = String(e.message || e); draw(); });
}

// In-browser mode: onnxruntime-web and the browser inspector are loaded on first use.
let local = null;
async function inspectHere(file) {
  if (!local) {
    $('verdict').textContent = 'loading the model into the browser ...';
    local = (async () => {
      const ort = await import('./ort/ort.wasm.min.mjs');
      ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      const { BrowserInspector } = await import('./lib/quality/browser.js');
      return BrowserInspector.load({ ort, model: 'model.onnx', config: 'model.json', sessionOptions: { executionProviders: ['wasm'] } });
    })();
    local.catch(() => { local = null; });
  }
  const inspector = await local;
  $('verdict').textContent = 'inspecting ' + file.name + ' in the browser ...';
  const t0 = performance.now();
  const r = await inspector.inspect(file);
  return { file: file.name, ...r, ms: Math.round(performance.now() - t0), where: 'browser' };
}
if (BOOT.browserMode) $('where').hidden = false;

function render() {
  if (!result) return;
  const found = result.scores.filter((s, k) => s.probability >= thresholdOf(k)).sort((a, b) => b.probability - a.probability);
  $('verdict').textContent = found.length ? found.map((s) => s.label).join(', ') : 'clean';
  $('verdict').className = found.length ? 'problem' : 'clean';
  const extra = (result.detail ? ' + ' + result.detail.rows + ' x ' + result.detail.cols + ' detail' : '') + (result.fine ? ' + ' + result.fine.rows + ' x ' + result.fine.cols + ' fine' : '');
  $('meta').firstChild.textContent = result.tiles.width + ' x ' + result.tiles.height + ' px, ' + result.tiles.rows + ' x ' + result.tiles.cols + extra + ' tiles, ' + result.ms + ' ms' + (result.where === 'browser' ? ' in this browser' : ' on the server');
  const body = $('scores').tBodies[0];
  body.textContent = '';
  result.scores.forEach((s, k) => {
    const tr = document.createElement('tr');
    if (k === selected) tr.className = 'sel';
    tr.innerHTML = '<td></td><td><div class="bar"><div></div><i></i></div></td><td></td><td></td>';
    tr.cells[0].textContent = s.label;
    tr.cells[1].firstChild.firstChild.style.width = (100 * s.probability) + '%';
    tr.cells[1].firstChild.lastChild.style.left = (100 * thresholdOf(k)) + '%';
    tr.cells[2].textContent = 'p ' + s.probability.toFixed(2);
    tr.cells[3].textContent = 'sev ' + s.severity.toFixed(2);
    tr.onclick = () => { selected = k; render(); draw(); };
    body.appendChild(tr);
  });
}

function draw() {
  const c = $('view');
  if (!image) { c.style.display = 'none'; $('hint').style.display = ''; return; }
  const maxW = $('drop').clientWidth - 20;
  const scale = Math.min(1, maxW / image.naturalWidth, 640 / image.naturalHeight);
  c.width = Math.round(image.naturalWidth * scale); c.height = Math.round(image.naturalHeight * scale);
  const g = c.getContext('2d');
  g.drawImage(image, 0, 0, c.width, c.height);
  if (result) {
    // Each tile's display cell (source pixels, centred on the tile) scaled to the canvas.
    const sx = c.width / result.tiles.width, sy = c.height / result.tiles.height;
    // Large photos: detail labels (noise, jpeg) were read from native-scale tiles and fine labels
    // (the blurs) from a finer coverage: draw the tiles the selected label was read from.
    const label = result.scores[selected].label;
    const d = result.detail && result.detail.labels.includes(label) ? result.detail : result.fine && result.fine.labels.includes(label) ? result.fine : null;
    const probs = d ? d.tileProbabilities : result.tileProbabilities;
    (d ? d.cells : result.tiles.cells).forEach((cell, t) => {
      const p = probs[t][selected];
      g.fillStyle = 'rgba(255,' + Math.round(200 * (1 - p)) + ',0,' + (0.6 * p).toFixed(3) + ')';
      g.fillRect(cell.left * sx, cell.top * sy, cell.width * sx, cell.height * sy);
      g.strokeStyle = 'rgba(255,255,255,0.5)';
      g.strokeRect(cell.left * sx, cell.top * sy, cell.width * sx, cell.height * sy);
    });
  }
  c.style.display = 'block'; $('hint').style.display = 'none';
}

const drop = $('drop');
drop.onclick = () => $('file').click();
drop.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') $('file').click(); };
// The input is emptied after each choice, so choosing the same file again inspects it again.
$('file').onchange = (e) => { pick(e.target.files[0]); e.target.value = ''; };
// Switching between server and browser inspects the photo shown again, the other way.
$('local').onchange = () => { if (current) pick(current); };
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove('over'); pick(e.dataTransfer.files[0]); };
window.onpaste = (e) => { const f = [...e.clipboardData.files][0]; if (f) pick(f); };
$('thr').oninput = (e) => { override = Number(e.target.value); $('thrv').textContent = override.toFixed(2); render(); };
window.onresize = draw;
</script>
</body>
</html>
`;
}

/** Megabytes for the page: 25, 2.5, 0.05 (never "0 MB" for a small limit). */
function formatMb(bytes: number): string {
  return String(Number((bytes / 1e6).toPrecision(2)));
}
