// Inpainting models on the `translation serve` page (glcic, deepfill): the uploaded image on the canvas with the
// holes painted over it in a see-through colour. The brush marks mask pixels (1 = fill), the eraser clears them,
// never blended. The page posts the chosen file itself with the mask as a 1-channel 8-bit PNG (white = fill, the
// image's size): the file `translate --mask` reads, so every pixel outside the holes comes back as it was sent.
"use strict";

const Inpainting = (() => {
  const TINT = [255, 0, 200];  // holes shown magenta over the image, at this opacity
  const OPACITY = 0.6;

  class MaskCanvas {
    // `bitmap`: the image as this browser decodes it, shown under the holes (only the file is sent)
    constructor(canvas, ctx, bitmap) {
      this.canvas = canvas;
      this.ctx = ctx;
      this.width = bitmap.width;
      this.height = bitmap.height;
      const scratch = document.createElement("canvas");
      scratch.width = this.width;
      scratch.height = this.height;
      const scratchCtx = scratch.getContext("2d");
      scratchCtx.drawImage(bitmap, 0, 0);
      this.base = scratchCtx.getImageData(0, 0, this.width, this.height).data;
      this.mask = new Uint8Array(this.width * this.height);
    }

    holes() { return this.mask.reduce((n, v) => n + v, 0); }
    snapshot() { return this.mask.slice(); }
    restore(mask) { this.mask.set(mask); this.render(0, 0, this.width, this.height); }
    fill(value) { this.mask.fill(value); this.render(0, 0, this.width, this.height); }

    // a stroke of the brush: 1 marks holes (pen), 0 clears them (eraser)
    paint(a, b, size, value) {
      const box = LabelMaps.brush(this.mask, this.width, this.height, a, b, size, value);
      if (box) this.render(...box);
    }

    render(x, y, w, h) {
      LabelMaps.drawBox(this.ctx, this.width, x, y, w, h, (p, data, o) => {
        const hole = this.mask[p] ? OPACITY : 0;
        for (let c = 0; c < 3; c++) data[o + c] = (1 - hole) * this.base[4 * p + c] + hole * TINT[c];
      });
    }

    // the request's body: the file as chosen, and the mask (255 = fill)
    async form(file) {
      const mask = await LabelMaps.grayPng(this.mask.map((v) => v * 255), this.width, this.height, 8);
      const body = new FormData();
      body.append("image", file, file.name || "image.png");
      body.append("mask", mask, "mask.png");
      return body;
    }
  }

  return { MaskCanvas };
})();
