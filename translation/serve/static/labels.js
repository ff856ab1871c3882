// Label maps on the `translation serve` page (pix2pixHD --label-nc models): the map of class ids behind the
// drawing canvas, painted with a round brush that never blends (each pixel holds one id), shown in the class
// colours the server lists, and posted as a one-channel gray PNG of the ids (8-bit up to 256 classes, else
// 16-bit), which the server reads as it reads a Cityscapes *_labelIds.png.
"use strict";

const LabelMaps = (() => {
  const MAX_CLASSES = 65536;  // what a 16-bit PNG holds

  // ["#rrggbb", ...] -> Uint8Array of r, g, b by id
  function colourTable(hexes) {
    const table = new Uint8Array(hexes.length * 3);
    hexes.forEach((hex, i) => {
      for (let c = 0; c < 3; c++) table[3 * i + c] = parseInt(hex.slice(1 + 2 * c, 3 + 2 * c), 16);
    });
    return table;
  }

  class LabelCanvas {
    constructor(canvas, ctx, classes, hexes) {
      this.canvas = canvas;
      this.ctx = ctx;
      this.classes = classes;
      this.colours = colourTable(hexes);
      this.ids = null;
    }

    get width() { return this.canvas.width; }
    get height() { return this.canvas.height; }

    newIds(n) { return this.classes <= 256 ? new Uint8Array(n) : new Uint16Array(n); }

    // The canvas has been given a new size: the old map scaled to it (nearest id) or, without one, class `fill`.
    resized(old, oldWidth, oldHeight, fill) {
      const { width, height } = this;
      this.ids = this.newIds(width * height);
      if (old) {
        for (let y = 0; y < height; y++) {
          const row = Math.min(oldHeight - 1, Math.floor((y + 0.5) * oldHeight / height)) * oldWidth;
          for (let x = 0; x < width; x++) {
            this.ids[y * width + x] = old[row + Math.min(oldWidth - 1, Math.floor((x + 0.5) * oldWidth / width))];
          }
        }
      } else {
        this.ids.fill(fill);
      }
      this.render(0, 0, width, height);
    }

    fill(id) { this.ids.fill(id); this.render(0, 0, this.width, this.height); }
    snapshot() { return this.ids.slice(); }
    restore(ids) { this.ids.set(ids); this.render(0, 0, this.width, this.height); }

    // Every pixel whose centre lies within width/2 of the segment from `a` to `b` gets class `id`.
    paint(a, b, width, id) {
      const box = brush(this.ids, this.width, this.height, a, b, width, id);
      if (box) this.render(...box);
    }

    render(x, y, w, h) {
      drawBox(this.ctx, this.width, x, y, w, h, (p, data, o) => {
        const id = this.ids[p];
        for (let c = 0; c < 3; c++) data[o + c] = this.colours[3 * id + c];
      });
    }

    png() { return grayPng(this.ids, this.width, this.height, this.classes <= 256 ? 8 : 16); }

    // The ids of a picture in the class colours (the server's drawing of an uploaded map), or null where a
    // pixel has a colour of no class.
    idsOf(image) {
      const byColour = new Map();
      for (let id = 0; id < this.classes; id++) {
        byColour.set((this.colours[3 * id] << 16) | (this.colours[3 * id + 1] << 8) | this.colours[3 * id + 2], id);
      }
      const ids = this.newIds(image.width * image.height);
      for (let i = 0; i < ids.length; i++) {
        const id = byColour.get((image.data[4 * i] << 16) | (image.data[4 * i + 1] << 8) | image.data[4 * i + 2]);
        if (id === undefined) return null;
        ids[i] = id;
      }
      return ids;
    }
  }

  // Every pixel of the width x height array `values` whose centre lies within size/2 of the segment from `a` to
  // `b` is set to `value`, never blended (a label map's ids, an inpainting mask's holes); [x, y, w, h] of the
  // box it touched, or null.
  function brush(values, width, height, a, b, size, value) {
    const r = Math.max(0.5, size / 2);
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r));
    const x1 = Math.min(width, Math.ceil(Math.max(a.x, b.x) + r));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r));
    const y1 = Math.min(height, Math.ceil(Math.max(a.y, b.y) + r));
    if (x0 >= x1 || y0 >= y1) return null;
    const dx = b.x - a.x, dy = b.y - a.y, length2 = dx * dx + dy * dy;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5 - a.x, py = y + 0.5 - a.y;
        const t = length2 ? Math.max(0, Math.min(1, (px * dx + py * dy) / length2)) : 0;
        const ex = px - t * dx, ey = py - t * dy;
        if (ex * ex + ey * ey <= r * r) values[y * width + x] = value;
      }
    }
    return [x0, y0, x1 - x0, y1 - y0];
  }

  // The box (x, y, w, h) of a canvas `width` pixels wide drawn opaque, `colour(p, data, o)` writing the r, g, b
  // of canvas pixel p at data[o...].
  function drawBox(ctx, width, x, y, w, h, colour) {
    const image = ctx.createImageData(w, h);
    const data = image.data;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        const o = 4 * (j * w + i);
        colour((y + j) * width + x + i, data, o);
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, x, y);
  }

  // ---------- a gray PNG encoder (the canvas's own toBlob writes colour) ----------

  const CRC = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function chunk(type, data) {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    let crc = 0xffffffff;
    for (let i = 4; i < 8 + data.length; i++) crc = CRC[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
    view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
    return out;
  }

  // zlib (RFC 1950) of `bytes`: the browser's deflate where it has one, else stored (uncompressed) blocks
  async function zlib(bytes) {
    if (window.CompressionStream) {
      const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    }
    const blocks = Math.max(1, Math.ceil(bytes.length / 65535));
    const out = new Uint8Array(2 + bytes.length + 5 * blocks + 4);
    out[0] = 0x78; out[1] = 0x01;
    let o = 2;
    for (let b = 0; b < blocks; b++) {
      const part = bytes.subarray(b * 65535, (b + 1) * 65535);
      out[o] = b === blocks - 1 ? 1 : 0;
      out[o + 1] = part.length & 0xff; out[o + 2] = part.length >>> 8;
      out[o + 3] = ~part.length & 0xff; out[o + 4] = (~part.length >>> 8) & 0xff;
      out.set(part, o + 5);
      o += 5 + part.length;
    }
    let s1 = 1, s2 = 0;
    for (const byte of bytes) { s1 = (s1 + byte) % 65521; s2 = (s2 + s1) % 65521; }
    new DataView(out.buffer).setUint32(o, ((s2 << 16) | s1) >>> 0);
    return out;
  }

  async function grayPng(ids, width, height, bits) {
    const per = bits / 8, stride = 1 + width * per;
    const raw = new Uint8Array(stride * height);  // each row: filter type 0, then the samples big-endian
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const id = ids[y * width + x], o = y * stride + 1 + x * per;
        if (bits === 8) raw[o] = id; else { raw[o] = id >>> 8; raw[o + 1] = id & 0xff; }
      }
    }
    const header = new Uint8Array(13);
    const view = new DataView(header.buffer);
    view.setUint32(0, width);
    view.setUint32(4, height);
    header[8] = bits;  // colour type 0 (gray), compression, filter and interlace 0
    const signature = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    const data = await zlib(raw);
    return new Blob([signature, chunk("IHDR", header), chunk("IDAT", data), chunk("IEND", new Uint8Array(0))],
                    { type: "image/png" });
  }

  return { LabelCanvas, MAX_CLASSES, brush, drawBox, grayPng };
})();
