"""Running a trained model: everything `translate`, `sample`, `evaluate` and the demos use after training.

translator.py         a paired or CycleGAN generator (Translator, load_translator), official weight files too
domain_translator.py  StarGAN: one generator, target domains as labels
onnx_translator.py    the same interfaces over an exported .onnx file (ONNX Runtime)
sampling.py           noise GANs: draw images from seeds, classes and truncation
weights.py            which weights a checkpoint is run with: the EMA copy or the raw ones
label_inputs.py       pix2pixHD's inputs: label-map ids one-hot, instance maps' boundaries (torch and ONNX alike)
folders.py            translate a folder of images in batch (readers, writers, skipped files)
tiles.py              large images in overlapping tiles, blended without seams
html_page.py          the index.html beside translated or sampled images
"""
