// The `translation serve` page: pick a model, draw or drop an image, see it translated. Plain JavaScript, no
// build step and nothing from other origins (the server's content security policy allows only this file,
// labels.js, which paints label maps for the models that read them, and inpaint.js, which paints the holes an
// inpainting model fills).
"use strict";

const $ = (id) => document.getElementById(id);

const NAMES = {
  pix2pix: "pix2pix", cyclegan: "CycleGAN", stargan: "StarGAN", gan: "GAN", dcgan: "DCGAN", wgan: "WGAN",
  "wgan-gp": "WGAN-GP", lsgan: "LSGAN", sngan: "SNGAN", cgan: "cGAN", madgan: "MAD-GAN", mrgan: "MRGAN",
  imported: "imported weights", onnx: "ONNX file",
};
const KINDS = {
  translate: "image → image", translate_to_domain: "image → named domains", sample: "noise → image",
};
const GROUPS = { translate: "Image to image", translate_to_domain: "Image to domains", sample: "Noise to image" };
const LIVE_DELAY_MS = 150;   // debounce: a live request waits for this long a pause in the drawing
const UNDO_DEPTH = 40;

// the token comes in the URL fragment (#token=...), which browsers never send to a server or in a Referer
const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get("token");

const state = {
  models: [],
  model: null,
  input: "draw",         // "draw" | "image"
  file: null,            // the chosen File, sent as its own bytes
  tool: "pen",
  undo: [],
  drawn: false,          // the canvas holds strokes (a model switch then keeps them)
  busy: false,           // a request is in flight (at most one)
  again: false,          // another was asked for meanwhile: sent when this one ends, with the newest input
  epoch: 0,              // bumped on a model switch: answers for an older model are dropped
  liveTimer: 0,
  urls: {},              // object URLs in use, revoked when replaced
  labels: null,          // a label-map model: the map of class ids behind the canvas (labels.js)
  chosenClass: 1,        // the class the pen paints on a label map
  labelPicture: null,    // the chosen file drawn in class colours by the server (a label-map model)
  inpaint: null,         // an inpainting model: the chosen image and the holes painted over it (inpaint.js)
  instanceFile: null,    // a label-map model trained with --instance: the instance map chosen with the upload
};

// the page's own words where a label-map model changes them
const DROP_HINT = $("drop-hint").textContent;
const INPUT_META = $("input-meta").textContent;
const CANVAS_LABEL = $("input-canvas").getAttribute("aria-label");

// A model that reads label maps (pix2pixHD --label-nc): class ids in, one channel.
function labelModel(m) { return Boolean(m && m.kind === "translate" && m.reads === "label_map"); }

// ...and one whose classes the page can paint: a palette listed, ids that fit a 16-bit PNG.
function paintable(m) {
  return labelModel(m) && Array.isArray(m.label_colours) && m.label_nc <= LabelMaps.MAX_CLASSES;
}

// A label-map model trained with --instance: it also reads an instance map, which the server makes from the
// label map's own class boundaries when none is sent (what a painted map gets).
function instanceModel(m) { return labelModel(m) && Boolean(m.instance); }

// A model that fills holes (glcic, deepfill): an image and a mask in.
function inpaintModel(m) { return Boolean(m && m.kind === "translate" && m.inpaints); }

// ---------- small helpers ----------

function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return fetch(path, { ...options, headers, cache: "no-store" });
}

function setURL(slot, blob) {
  if (state.urls[slot]) URL.revokeObjectURL(state.urls[slot]);
  state.urls[slot] = blob ? URL.createObjectURL(blob) : null;
  return state.urls[slot];
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
  if (message) box.scrollIntoView({ block: "nearest" });  // seen even when the page was scrolled to the button
  $("output-image").classList.toggle("stale", Boolean(message));
}

function setStatus(text) { $("status").textContent = text; }

function formatBytes(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

// What a failed response says, in words: the JSON `error` if there is one, else the status and some text.
async function failure(response) {
  let detail = "";
  const type = response.headers.get("Content-Type") || "";
  try {
    if (type.includes("json")) detail = (await response.json()).error || "";
    else detail = (await response.text()).trim().slice(0, 200);
  } catch (err) { detail = ""; }
  let message = `${response.status} ${response.statusText || "error"}${detail ? ": " + detail : ""}`;
  if (response.status === 401) {
    message += token ? " (the token in this page's address was refused)"
      : " (this server needs a token: open the address `translation serve` printed, which ends in #token=…)";
  } else if (response.status === 503) {
    const wait = response.headers.get("Retry-After");
    message += ` (the server is busy${wait ? `: try again in ${wait} s` : ""})`;
  }
  return message;
}

function networkFailure(err) {
  return `Could not reach the server (${err.message}): is \`translation serve\` still running?`;
}

// ---------- models ----------

async function loadModels() {
  let response;
  try {
    response = await api("api/models");
  } catch (err) {
    showError(networkFailure(err));
    return;
  }
  if (!response.ok) { showError(`Could not list the models: ${await failure(response)}`); return; }
  state.models = (await response.json()).models || [];
  const select = $("model-select");
  select.replaceChildren();
  if (!state.models.length) {
    select.append(element("option", { textContent: "no models" }));
    showError("The server found no models: train one (translation train …) or name checkpoint folders or files " +
              "on the `translation serve` command line.");
    return;
  }
  for (const kind of Object.keys(GROUPS)) {
    const models = state.models.filter((m) => m.kind === kind);
    if (!models.length) continue;
    const group = element("optgroup", { label: GROUPS[kind] });
    for (const m of models) group.append(element("option", { value: m.id, textContent: optionText(m) }));
    select.append(group);
  }
  for (const m of state.models.filter((m) => !GROUPS[m.kind])) {
    select.append(element("option", { value: m.id, textContent: optionText(m) }));
  }
  select.disabled = false;
  const wanted = fragment.get("model");
  select.value = state.models.some((m) => m.id === wanted) ? wanted : state.models[0].id;
  chooseModel(select.value);
}

function optionText(m) {
  const name = NAMES[m.model] || m.model;
  const step = m.step != null ? `step ${m.step}` : "";
  const what = m.id.toLowerCase() === String(m.model).toLowerCase() ? [step] : [name, step];
  const text = [m.id, what.filter(Boolean).join(", ")].filter(Boolean).join(" — ");
  return m.unavailable ? `${text} (cannot be used here)` : text;
}

function chooseModel(id) {
  const m = state.models.find((entry) => entry.id === id);
  if (!m) return;
  const previous = state.model;
  state.model = m;
  state.epoch += 1;
  showError("");
  fragment.set("model", id);
  history.replaceState(null, "", `#${fragment.toString()}`);
  describe(m);
  const before = state.labels;
  state.labels = labelCanvasFor(m, before);
  if (state.labels !== before) state.drawn = false;  // strokes or ids of other classes are no input for it
  const holes = state.inpaint;  // kept from one inpainting model to another: the same image and holes
  if (!inpaintModel(m)) state.inpaint = null;
  if (holes && !state.inpaint) state.drawn = false;
  buildControls(m);
  const size = m.image_size || 256;
  if (state.inpaint) resizeCanvas(state.inpaint.width, state.inpaint.height, false);
  else if (!state.drawn || canvas.width !== size || holes) resizeCanvas(size, size, state.drawn);
  fillSizes(size);
  if (inpaintModel(m) && !state.inpaint && state.file) loadInpaint(state.file);
  clearOutput();
  if (state.file && (labelModel(m) || labelModel(previous))) showFile();  // as this model reads it
  if (liveOn()) scheduleLive(0);
}

function describe(m) {
  $("info-model").textContent = NAMES[m.model] || m.model;
  $("info-kind").textContent = labelModel(m) ? "label map → image" : inpaintModel(m) ? "image + holes → filled image"
    : KINDS[m.kind] || m.kind;
  $("info-file").textContent = m.file || m.id;
  const chips = [];
  if (m.nets) chips.push(["net", nets(m.nets)]);
  if (m.parameters) chips.push(["params", `${formatCount(m.parameters)} parameters`]);
  if (m.step != null) chips.push(["step", `step ${m.step.toLocaleString("en")}`]);
  chips.push(["weights", m.ema ? "EMA weights" : "raw weights"]);
  if (labelModel(m)) {
    chips.push(["size", `size multiple ${m.size_multiple}`]);
    chips.push(["channels", `label map: ${m.label_nc} classes → ${m.output_nc} channels`]);
    if (m.instance) chips.push(["instance", "+ instance maps"]);
  } else if (m.kind !== "sample") {
    chips.push(["size", `size multiple ${m.size_multiple}`]);
    if (m.scale > 1) chips.push(["scale", `upscales ×${m.scale}`]);
    if (m.input_nc != null) chips.push(["channels", `${m.input_nc} → ${m.output_nc} channels`]);
  } else if (m.z_dim) {
    chips.push(["z", `z: ${m.z_dim}-d`]);
  }
  if (m.image_size) chips.push(["trained", `trained at ${m.image_size} px`]);
  if (m.small && m.kind !== "sample") chips.push(["live", "live drawing"]);
  $("info-chips").replaceChildren(...chips.map(([kind, text]) => element("li", { class: `chip ${kind}`, textContent: text })));
  let domains = "";
  if (m.kind === "translate" && m.directions?.length > 1) {
    domains = `Directions: ${m.directions.map((d) => d.replace("to", " → ")).join(", ")}`;
  }
  if (m.kind === "translate_to_domain") {
    domains = `Domains (${m.label_kind === "multi_label" ? "attributes, several at once" : "one at a time"}): ` +
              m.domains.join(", ");
    if (m.exclusive?.length) domains += ` · exclusive: ${m.exclusive.map((g) => g.join("/")).join("; ")}`;
  }
  if (m.kind === "sample" && m.classes?.length) domains = `Classes: ${m.classes.join(", ")}`;
  if (labelModel(m)) {
    domains = `Reads label maps: class ids 0 to ${m.label_nc - 1} in one channel. ` +
              (paintable(m) ? "Paint them with the palette, or upload one" : "Upload one") +
              " (8- or 16-bit gray PNG, or palette indices).";
    if (m.instance) domains += " It also reads instance maps: pick one with an uploaded map, or the map's " +
                               "class boundaries stand in.";
  }
  if (inpaintModel(m)) {
    domains = "Fills holes: choose an image, paint the holes over it with the brush (the eraser takes paint " +
              "away), then translate. Outside the holes the output is your image, pixel for pixel.";
  }
  $("info-domains").textContent = domains;
  loadThumbnail(m);
}

// {G_A: "resnet_9blocks", G_B: "resnet_9blocks", D_A: "basic"} -> "G_A, G_B resnet_9blocks · D_A basic"
function nets(specs) {
  if (Array.isArray(specs)) return specs.join(" · ");
  const byName = new Map();
  for (const [key, name] of Object.entries(specs)) byName.set(name, [...(byName.get(name) || []), key]);
  return [...byName].map(([name, keys]) => `${keys.join(", ")} ${name}`.trim()).join(" · ");
}

function formatCount(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
}

async function loadThumbnail(m) {
  const link = $("info-thumb-link");
  link.hidden = true;
  if (!m.thumbnail) return;
  try {
    const response = await api(m.thumbnail);
    if (!response.ok || state.model !== m) return;  // no sheet yet: nothing to show
    const url = setURL("thumb", await response.blob());
    $("info-thumb").src = url;
    $("sheet-full").src = url;
    link.hidden = false;
  } catch (err) { /* the thumbnail is a nicety; the model list already worked */ }
}

// ---------- per-kind controls ----------

function radio(name, value, text, checked) {
  return element("label", { class: "choice" },
    element("input", { type: "radio", name, value, checked }), document.createTextNode(` ${text}`));
}

function buildControls(m) {
  const sample = m.kind === "sample";
  $("input-modes").hidden = sample;
  $("drawing").hidden = sample || state.input !== "draw";
  $("upload").hidden = sample || state.input !== "image";
  $("sampling").hidden = !sample;
  $("input-title").textContent = sample ? "Settings" : "Input";
  $("translate").textContent = sample ? "Sample" : "Translate";

  const directions = m.kind === "translate" ? (m.directions || []) : [];
  $("ctl-direction").hidden = directions.length < 2;
  $("direction-choices").replaceChildren(...directions.map((d, i) => radio("direction", d, d.replace("to", " → "), i === 0)));

  $("ctl-targets").hidden = m.kind !== "translate_to_domain";
  if (m.kind === "translate_to_domain") buildTargets(m);

  $("ctl-sample").hidden = !sample;
  if (sample) {
    $("sample-label-wrap").hidden = !m.classes?.length;
    $("sample-label").replaceChildren(element("option", { value: "", textContent: "each in turn" }),
      ...(m.classes || []).map((c) => element("option", { value: c, textContent: c })));
  }

  fillSelect("test-mode", sample ? [] : m.test_modes || [], m.test_mode);
  fillSelect("precision", m.precisions || [], (m.precisions || [])[0]);
  $("tile-wrap").hidden = m.kind !== "translate";
  $("tile").value = "";
  $("live-wrap").hidden = sample || !m.small;
  $("ctl-run").hidden = [$("test-mode-wrap"), $("precision-wrap"), $("tile-wrap")].every((w) => w.hidden);
  $("unavailable").hidden = !m.unavailable;
  $("unavailable").textContent = m.unavailable ? `This model cannot be used here: ${m.unavailable}.` : "";
  $("translate").disabled = Boolean(m.unavailable);
  buildLabelControls(m);
  buildInstanceControls(m);
  buildInpaintControls(m);
}

// ---------- instance maps (--instance label-map models) ----------

function buildInstanceControls(m) {
  const instance = instanceModel(m);
  $("instance-note").hidden = !instance;
  $("instance-note").textContent = instance ? "This model also reads an instance map: the painted map's class " +
    "boundaries stand in for it (each region of one class is one object)." : "";
  $("instance-pick").hidden = !instance;
  if (!instance) state.instanceFile = null;
  showInstanceFile();
}

function setInstanceFile(file) {
  state.instanceFile = file;
  showInstanceFile();
  if (liveOn()) scheduleLive(0);
}

function showInstanceFile() {
  const file = state.instanceFile;
  $("instance-meta").textContent = file ? `Instance map: ${file.name || "pasted file"} · ${formatBytes(file.size)}`
    : "No instance map: the label map's class boundaries stand in";
  $("instance-clear").hidden = !file;
}

// ---------- inpainting: the image with the holes painted over it ----------

function buildInpaintControls(m) {
  const holes = inpaintModel(m);
  $("mode-draw").textContent = holes ? "Holes" : "Draw";
  $("canvas-size").hidden = holes;  // the canvas is the image's size
  if (holes) {
    $("clear").textContent = "Clear";
    $("clear").title = "Clear the holes";
    canvas.setAttribute("aria-label", "The image: paint the holes to fill with the brush");
    $("mode-draw").hidden = !state.inpaint;  // there is nothing to paint on before an image is chosen
    if (!state.inpaint && state.input === "draw") setMode("image");
    if (!state.file) $("drop-hint").textContent = "Drop the image to fill here or paste one (Ctrl+V); then paint its holes";
  }
}

// The chosen file onto the canvas, at its own size, to paint its holes.
async function loadInpaint(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (err) {
    if (state.file === file) {
      showError("This browser cannot show this image, so its holes cannot be painted here: convert it to PNG or " +
                "JPEG, or send it with a mask file to POST /api/translate.");
    }
    return;
  }
  if (state.file !== file || !inpaintModel(state.model)) return;  // another file or model meanwhile
  state.inpaint = new Inpainting.MaskCanvas(canvas, ctx, bitmap);
  state.drawn = false;
  resizeCanvas(bitmap.width, bitmap.height, false);
  buildInpaintControls(state.model);
  setMode("draw");
}

// ---------- label maps: the palette, the canvas of class ids ----------

// The label canvas for model `m`: the one in use when it has the same classes (a switch keeps the map),
// a new one for other classes, null for models that read images.
function labelCanvasFor(m, current) {
  if (!paintable(m)) return null;
  if (current && current.classes === m.label_nc) return current;
  return new LabelMaps.LabelCanvas(canvas, ctx, m.label_nc, m.label_colours);
}

function buildLabelControls(m) {
  const labels = labelModel(m);
  $("palette-bar").hidden = !state.labels;
  $("tool-eraser").hidden = Boolean(state.labels);
  $("clear").textContent = state.labels ? "Fill" : "Clear";
  $("clear").title = state.labels ? "Fill the whole map with the chosen class" : "Clear to white";
  canvas.setAttribute("aria-label", state.labels ? "Label map: paint class ids with the chosen class" : CANVAS_LABEL);
  $("drop-hint").textContent = labels ? "Drop a label map here or paste one (Ctrl+V): class ids in one channel"
    : DROP_HINT;
  if (!state.file) {
    $("input-meta").textContent = labels ? "A 1-channel PNG of class ids: 8- or 16-bit gray, or palette indices"
      : INPUT_META;
  }
  // a label map the page cannot paint (too many classes) is uploaded
  $("mode-draw").hidden = labels && !state.labels;
  if (labels && !state.labels && state.input === "draw") setMode("image");
  if (state.labels) setTool("pen");
  if (!state.labels) return;
  const colours = m.label_colours;
  const shown = Math.min(m.label_nc, 256);  // beyond: the class by its number
  const swatches = [];
  for (let id = 0; id < shown; id++) {
    const hex = colours[id];
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const dark = 0.299 * r + 0.587 * g + 0.114 * b < 128;  // its number in white
    const swatch = element("button", { type: "button", class: dark ? "swatch dark" : "swatch", role: "radio",
      title: `class ${id}`, textContent: String(id) });
    swatch.dataset.id = id;
    swatch.style.backgroundColor = hex;
    swatches.push(swatch);
  }
  $("palette").replaceChildren(...swatches);
  $("class-id").max = m.label_nc - 1;
  chooseClass(Math.min(state.chosenClass, m.label_nc - 1));
}

function chooseClass(id) {
  const max = state.labels ? state.labels.classes - 1 : 0;
  state.chosenClass = Math.max(0, Math.min(max, Math.floor(Number(id)) || 0));
  $("class-id").value = state.chosenClass;
  for (const swatch of $("palette").children) {
    const on = Number(swatch.dataset.id) === state.chosenClass;
    swatch.classList.toggle("active", on);
    swatch.setAttribute("aria-checked", String(on));
  }
}

function fillSelect(id, values, chosen) {
  $(`${id}-wrap`).hidden = values.length < 2;
  $(id).replaceChildren(...values.map((v) => element("option", { value: v, textContent: v, selected: v === chosen })));
}

// StarGAN targets: multi-label attributes as checkboxes, each exclusive group (hair colours) as radio buttons
// with "as the input" first; single-label domains as one set of radio buttons.
function buildTargets(m) {
  const box = $("target-choices");
  box.replaceChildren();
  $("target-all").checked = false;
  if (m.label_kind !== "multi_label") {
    box.append(...m.domains.map((d, i) => radio("target", d, d, i === 0)));
    return;
  }
  const groups = m.exclusive || [];
  const done = new Set();
  m.domains.forEach((d, i) => {
    const group = groups.find((g) => g.includes(d));
    if (!group) {
      box.append(element("label", { class: "choice" },
        element("input", { type: "checkbox", name: "target", value: d, checked: i === 0 }), document.createTextNode(` ${d}`)));
    } else if (!done.has(group)) {
      done.add(group);
      const name = `group-${done.size}`;
      box.append(element("span", { class: "group" },
        radio(name, "", "as the input", i !== 0),
        ...group.map((g) => radio(name, g, g, i === 0 && g === d))));
    }
  });
}

function targets() {
  if ($("target-all").checked) return ["all"];
  return [...$("target-choices").querySelectorAll("input:checked")].map((i) => i.value).filter(Boolean);
}

// ---------- the drawing canvas ----------

const canvas = $("input-canvas");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
let stroke = null;  // {x, y} while the pointer is down

function whiteCanvas() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

// A new size; `keep` scales the drawing to it (a model switch), else the canvas starts white (a label map:
// class 0, scaled to the nearest id).
function resizeCanvas(width, height, keep) {
  const labels = state.labels;
  const old = keep ? (labels ? labels.ids : copyCanvas()) : null;
  const [oldWidth, oldHeight] = [canvas.width, canvas.height];
  canvas.width = width;
  canvas.height = height;
  if (state.inpaint) {
    state.inpaint.render(0, 0, width, height);
  } else if (labels) {
    labels.resized(old, oldWidth, oldHeight, 0);
  } else {
    whiteCanvas();
    if (old) { ctx.imageSmoothingQuality = "high"; ctx.drawImage(old, 0, 0, width, height); }
  }
  state.undo = [];
  $("undo").disabled = true;
  // a label map is painted in areas, holes in wide strokes, a drawing in lines
  const width1 = state.inpaint ? Math.max(4, Math.round(Math.max(width, height) / 20))
    : labels ? Math.max(2, Math.round(width / 16)) : Math.max(1, Math.round(width / 128));
  $("stroke-width").max = Math.max(8, Math.round(width / 8));
  $("stroke-width").value = width1;
  $("stroke-width-value").textContent = width1;
  fit();
}

function copyCanvas() {
  const copy = element("canvas", { width: canvas.width, height: canvas.height });
  copy.getContext("2d").drawImage(canvas, 0, 0);
  return copy;
}

function fillSizes(modelSize) {
  const sizes = [...new Set([modelSize, 64, 128, 256, 512])].sort((a, b) => a - b);
  $("canvas-size").replaceChildren(...sizes.map((s) => element("option", {
    value: s, textContent: `${s} px${s === modelSize ? " (model)" : ""}`, selected: s === canvas.width,
  })));
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
}

function pushUndo() {
  const painted = state.inpaint || state.labels;
  state.undo.push(painted ? painted.snapshot() : ctx.getImageData(0, 0, canvas.width, canvas.height));
  if (state.undo.length > UNDO_DEPTH) state.undo.shift();
  $("undo").disabled = false;
}

function line(from, to) {
  const size = Number($("stroke-width").value);
  if (state.inpaint) { state.inpaint.paint(from, to, size, state.tool === "pen" ? 1 : 0); return; }
  if (state.labels) { state.labels.paint(from, to, Number($("stroke-width").value), state.chosenClass); return; }
  ctx.strokeStyle = ctx.fillStyle = state.tool === "pen" ? "#000" : "#fff";
  ctx.lineWidth = Number($("stroke-width").value);
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  canvas.setPointerCapture(event.pointerId);
  if (state.inpaint) showError("");  // painting holes answers "paint the holes first"; a new input for the rest
  pushUndo();
  stroke = point(event);
  line(stroke, stroke);  // a click leaves a dot
  changed();
});

canvas.addEventListener("pointermove", (event) => {
  if (!stroke) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) {
    const next = point(e);
    line(stroke, next);
    stroke = next;
  }
  changed();
});

for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, () => { if (stroke) { stroke = null; changed(); } });
}

function changed() {
  state.drawn = true;
  if (liveOn()) scheduleLive(LIVE_DELAY_MS);
}

function undo() {
  const last = state.undo.pop();
  if (!last) return;
  const painted = state.inpaint || state.labels;
  if (painted) painted.restore(last); else ctx.putImageData(last, 0, 0);
  $("undo").disabled = !state.undo.length;
  changed();
}

function setTool(tool) {
  state.tool = tool;
  for (const name of ["pen", "eraser"]) {
    $(`tool-${name}`).classList.toggle("active", name === tool);
    $(`tool-${name}`).setAttribute("aria-pressed", String(name === tool));
  }
  canvas.classList.toggle("erasing", tool === "eraser");
}

// ---------- image input: picker, drop, paste ----------

function setMode(mode) {
  state.input = mode;
  const sample = state.model?.kind === "sample";
  $("drawing").hidden = sample || mode !== "draw";
  $("upload").hidden = sample || mode !== "image";
  for (const name of ["draw", "image"]) {
    $(`mode-${name}`).classList.toggle("active", name === mode);
    $(`mode-${name}`).setAttribute("aria-selected", String(name === mode));
  }
  fit();
}

function useFile(file) {
  if (!file) return;
  state.file = file;
  setMode("image");
  showFile();
  if (inpaintModel(state.model)) { state.inpaint = null; loadInpaint(file); return; }  // then its holes
  if (liveOn()) scheduleLive(0);
}

// The chosen file as the model reads it: an image as it is, a label map in its class colours (the server
// reads the ids, as it will to translate, and draws them).
function showFile() {
  const file = state.file;
  const img = $("input-image");
  const labels = labelModel(state.model);
  state.labelPicture = null;
  $("paint-over").hidden = true;
  $("drop-hint").hidden = true;
  $("input-meta").textContent = `${file.name || "pasted image"} · ${formatBytes(file.size)}`;
  img.onload = () => {
    img.hidden = false;
    const size = `${img.naturalWidth} × ${img.naturalHeight} px`;
    $("input-meta").textContent = `${file.name || "pasted image"} · ${size} · ${formatBytes(file.size)}` +
      (labels ? " · in class colours" : "");
    fit();
  };
  img.onerror = () => {
    img.hidden = true;
    $("drop-hint").hidden = false;  // the server may still read it (it has more decoders); it says so if not
    $("input-meta").textContent = `${file.name || "pasted file"} · ${formatBytes(file.size)} · this browser cannot show it`;
  };
  if (labels) showLabelFile(file, state.model); else img.src = setURL("input", file);
}

async function showLabelFile(file, m) {
  let response;
  try {
    response = await api(`api/labels?${new URLSearchParams({ model: m.id })}`, {
      method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } });
  } catch (err) { showError(networkFailure(err)); return; }
  if (state.file !== file || state.model !== m) return;  // another file or model meanwhile
  if (!response.ok) {
    $("input-image").hidden = true;
    $("drop-hint").hidden = false;
    const name = `${file.name || "pasted file"} · ${formatBytes(file.size)}`;
    $("input-meta").textContent = `${name} · not a label map this model reads`;
    showError(await failure(response));
    return;
  }
  state.labelPicture = await response.blob();
  $("paint-over").hidden = !state.labels;
  $("input-image").src = setURL("input", state.labelPicture);
}

// The uploaded map into the canvas, at its own size, to be painted over.
async function paintOver() {
  const labels = state.labels, picture = state.labelPicture;
  if (!labels || !picture) return;
  const bitmap = await createImageBitmap(picture, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const scratch = element("canvas", { width: bitmap.width, height: bitmap.height });
  const scratchCtx = scratch.getContext("2d", { willReadFrequently: true });
  scratchCtx.drawImage(bitmap, 0, 0);
  const ids = labels.idsOf(scratchCtx.getImageData(0, 0, bitmap.width, bitmap.height));
  if (state.labels !== labels || state.labelPicture !== picture) return;  // another model or file meanwhile
  if (!ids) { showError("This browser changed the map's colours, so its classes cannot be read back to paint."); return; }
  resizeCanvas(bitmap.width, bitmap.height, false);
  labels.restore(ids);
  fillSizes(state.model.image_size || 256);
  setMode("draw");
  changed();
}

function firstImage(items) {
  for (const item of items || []) {
    const file = item instanceof File ? item : item.kind === "file" ? item.getAsFile() : null;
    if (file) return file;
  }
  return null;
}

// ---------- translating ----------

function liveOn() {
  const m = state.model;
  if (inpaintModel(m)) {  // live once there are holes to fill
    return Boolean(m.small && $("live").checked && state.inpaint && state.inpaint.holes());
  }
  return Boolean(m && m.small && m.kind !== "sample" && !m.unavailable && $("live").checked &&
                 (state.input === "draw" ? state.drawn : state.file));
}

function scheduleLive(delay) {
  clearTimeout(state.liveTimer);
  state.liveTimer = setTimeout(run, delay);
}

// One request at a time: asked for while one is in flight, the page remembers only that it must run again, and
// reads the newest input then; a stroke never queues a request of its own.
async function run() {
  clearTimeout(state.liveTimer);
  if (!state.model) return;
  if (state.busy) { state.again = true; setStatus("Waiting to send the newest input…"); return; }
  state.busy = true;
  $("busy").hidden = false;
  try {
    await send(state.model, state.epoch);
  } finally {
    state.busy = false;
    $("busy").hidden = true;
    if (state.again) { state.again = false; run(); }
  }
}

function query(m) {
  const q = new URLSearchParams({ model: m.id });
  const get = (id) => (($(`${id}-wrap`) && $(`${id}-wrap`).hidden) ? "" : $(id).value.trim());
  if (m.kind === "sample") {
    q.set("n", $("sample-n").value || "16");
    q.set("seed", $("sample-seed").value || "0");
    if (get("sample-label")) q.set("label", get("sample-label"));
    if ($("sample-truncation").value.trim()) q.set("truncation", $("sample-truncation").value.trim());
    if (get("precision")) q.set("precision", get("precision"));
    return q;
  }
  if (m.kind === "translate") {
    const direction = document.querySelector("input[name=direction]:checked");
    if (direction) q.set("direction", direction.value);
    if (get("tile")) q.set("tile", get("tile"));
  } else {
    const to = targets();
    if (!to.length) throw new Error("Choose at least one domain to translate to, or All domains.");
    q.set("to", to.join(","));
  }
  if (get("test-mode")) q.set("test_mode", get("test-mode"));
  if (get("precision")) q.set("precision", get("precision"));
  return q;
}

function inputBody(m) {
  if (m.kind === "sample") return Promise.resolve(null);
  if (inpaintModel(m)) {
    if (!state.file || !state.inpaint) {
      return Promise.reject(new Error("Choose an image first (drop, paste or pick a file), then paint its holes."));
    }
    if (!state.inpaint.holes()) return Promise.reject(new Error("Paint the holes to fill first: the brush marks them."));
    return state.inpaint.form(state.file);  // the file itself and the mask (inpaint.js)
  }
  if (state.input === "image") {
    if (!state.file) return Promise.reject(new Error("Choose an image first: drop one, paste one or pick a file."));
    if (instanceModel(m) && state.instanceFile) {  // both maps as the form the API reads (instance.py)
      const form = new FormData();
      form.append("label", state.file, state.file.name || "label.png");
      form.append("instance", state.instanceFile, state.instanceFile.name || "instance.png");
      return Promise.resolve(form);
    }
    return Promise.resolve(state.file);
  }
  if (state.labels) return state.labels.png();  // the class ids, one channel
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

async function send(m, epoch) {
  let q, body;
  try {
    q = query(m);
    body = await inputBody(m);
  } catch (err) { showError(err.message); setStatus(""); return; }
  const path = m.kind === "sample" ? "api/sample" : "api/translate";
  setStatus(m.kind === "sample" ? "Sampling…" : "Translating…");
  const started = performance.now();
  let response, blob;
  try {
    response = await api(`${path}?${q}`, {
      method: "POST", body,
      // a form sets its own multipart type (with the boundary)
      headers: body && !(body instanceof FormData) ? { "Content-Type": body.type || "application/octet-stream" } : {},
    });
    if (response.ok) blob = await response.blob();
  } catch (err) {
    if (epoch === state.epoch) { showError(networkFailure(err)); setStatus(""); }
    return;
  }
  if (epoch !== state.epoch) return;  // the model was switched meanwhile: the answer is for the old one
  if (!response.ok) { showError(await failure(response)); setStatus(""); return; }
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("image/")) {
    showError(`The server answered with ${type || "no content type"} instead of an image.`);
    setStatus("");
    return;
  }
  const roundTrip = performance.now() - started;
  await showOutput(blob, response, roundTrip, m);
}

function showOutput(blob, response, roundTrip, m) {
  return new Promise((resolve) => {
    const img = $("output-image");
    img.onload = () => {
      img.hidden = false;
      $("output-placeholder").hidden = true;
      showError("");
      const parts = [`${img.naturalWidth} × ${img.naturalHeight} px`];
      const elapsed = response.headers.get("X-Elapsed-Ms");
      if (elapsed) parts.push(`model ${Math.round(Number(elapsed))} ms`);
      parts.push(`round trip ${Math.round(roundTrip)} ms`);
      const weights = response.headers.get("X-Weights");
      if (weights) parts.push(`${weights === "ema" ? "EMA" : weights} weights`);
      const tiles = response.headers.get("X-Tiles");
      if (tiles) parts.push(`in ${tiles} px tiles`);
      if (response.headers.get("X-Instance") === "from-labels") parts.push("instances: the class boundaries");
      $("output-meta").textContent = parts.join(" · ");
      setStatus("");
      const download = $("download");
      download.href = img.src;
      download.download = `${m.id.replace(/[^\w.-]+/g, "_")}-${m.kind === "sample" ? "samples" : "translated"}.png`;
      download.hidden = false;
      fit();
      resolve();
    };
    img.onerror = () => {
      showError(`The server answered with ${response.headers.get("Content-Type")}, but this browser cannot read it as an image.`);
      setStatus("");
      resolve();
    };
    img.src = setURL("output", blob);
  });
}

function clearOutput() {
  const img = $("output-image");
  img.hidden = true;
  img.removeAttribute("src");
  setURL("output", null);
  $("output-placeholder").hidden = false;
  $("output-placeholder").textContent = state.model?.kind === "sample"
    ? "Press Sample: a grid of generated images appears here." : "The translation appears here.";
  $("output-meta").textContent = "";
  $("download").hidden = true;
}

// ---------- layout: every picture as large as its pane allows, whole pixels kept sharp ----------

function fitInto(node, width, height, stage) {
  if (!width || !height || stage.hidden || !stage.clientWidth) return;
  const scale = Math.min(stage.clientWidth / width, stage.clientHeight / height);
  node.style.width = `${Math.floor(width * scale)}px`;
  node.style.height = `${Math.floor(height * scale)}px`;
  node.classList.toggle("pixelated", scale >= 2);
}

function fit() {
  fitInto(canvas, canvas.width, canvas.height, $("draw-stage"));
  const input = $("input-image");
  if (!input.hidden) fitInto(input, input.naturalWidth, input.naturalHeight, $("drop-zone"));
  const output = $("output-image");
  if (!output.hidden) fitInto(output, output.naturalWidth, output.naturalHeight, $("output-stage"));
}

// ---------- wiring ----------

$("model-select").addEventListener("change", (e) => chooseModel(e.target.value));
$("controls").addEventListener("submit", (e) => { e.preventDefault(); run(); });
$("controls").addEventListener("change", (e) => {
  if (e.target.id === "target-all") {
    for (const i of $("target-choices").querySelectorAll("input")) i.disabled = e.target.checked;
  }
  if (e.target.id !== "live" && liveOn()) scheduleLive(0);
});
$("mode-draw").addEventListener("click", () => { setMode("draw"); if (liveOn()) scheduleLive(0); });
$("mode-image").addEventListener("click", () => setMode("image"));
$("tool-pen").addEventListener("click", () => setTool("pen"));
$("tool-eraser").addEventListener("click", () => setTool("eraser"));
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", () => {
  pushUndo();
  if (state.inpaint) state.inpaint.fill(0);
  else if (state.labels) state.labels.fill(state.chosenClass); else whiteCanvas();
  changed();
});
$("palette").addEventListener("click", (e) => {
  const swatch = e.target.closest(".swatch");
  if (swatch) chooseClass(swatch.dataset.id);
});
$("class-id").addEventListener("change", (e) => chooseClass(e.target.value));
$("paint-over").addEventListener("click", paintOver);
$("stroke-width").addEventListener("input", (e) => { $("stroke-width-value").textContent = e.target.value; });
$("canvas-size").addEventListener("change", (e) => {
  const size = Number(e.target.value);
  resizeCanvas(size, size, state.drawn);
  if (liveOn()) scheduleLive(0);
});
$("info-thumb-link").addEventListener("click", () => $("sheet-dialog").showModal());
$("sheet-dialog").addEventListener("click", (e) => { if (e.target === $("sheet-dialog")) $("sheet-dialog").close(); });
$("reseed").addEventListener("click", () => { $("sample-seed").value = Math.floor(Math.random() * 1e6); });
$("file-input").addEventListener("change", (e) => { useFile(e.target.files[0]); e.target.value = ""; });
$("instance-input").addEventListener("change", (e) => { setInstanceFile(e.target.files[0] || null); e.target.value = ""; });
$("instance-clear").addEventListener("click", () => setInstanceFile(null));

const pane = $("input-pane");
pane.addEventListener("dragover", (e) => { e.preventDefault(); pane.classList.add("dragging"); });
pane.addEventListener("dragleave", (e) => { if (!pane.contains(e.relatedTarget)) pane.classList.remove("dragging"); });
pane.addEventListener("drop", (e) => {
  e.preventDefault();
  pane.classList.remove("dragging");
  const file = firstImage(e.dataTransfer.files);
  if (file) useFile(file); else showError("What was dropped holds no file: drop an image file.");
});
document.addEventListener("paste", (e) => {
  const file = firstImage(e.clipboardData?.items);
  if (file) { e.preventDefault(); useFile(file); }
});
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea")) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); undo(); }
  else if (e.key === "p" && !e.ctrlKey) setTool("pen");
  else if (e.key === "e" && !e.ctrlKey && !state.labels) setTool("eraser");
});
window.addEventListener("resize", fit);
if (window.ResizeObserver) new ResizeObserver(fit).observe($("draw-stage"));

whiteCanvas();
loadModels();
