"""Exporting a checkpoint's generator to ONNX or TorchScript (inference/onnx_translator.py runs an ONNX file).

The exported graph computes what `translation translate` (or `sample`) computes with the checkpoint: the
generator's test mode is built into it (see graph.py), EMA weights are used when the checkpoint has them, and
the file records how to feed it (metadata.py): the size multiple the input is padded to, channels, value
range, direction or domains. Input and output images are N x C x H x W float32 in [-1, 1] (in [0, 1] for
super-resolution nets, whose output is N x C x scale H x scale W: metadata value_range and scale), with H, W
and N free (H and W multiples of size_multiple). pix2pixHD label-map models take class ids ("label", N x 1 x H x W,
one-hot inside the graph) and, trained with --instance, the instance boundaries ("edges"). Inpainting models
(glcic, deepfill) take "image" (in their value range) and "mask" (N x 1 x H x W, 1 = hole); the fill and the
composite are inside the graph (inpaint.py), so the output is the image outside the mask.

    source.py        checkpoint -> Exportable (the frozen net, example inputs, metadata)
    graph.py         the test mode as fixed layers
    inpaint.py       inpainting generators: image and mask in, the composite out
    writers.py       ONNX and TorchScript files, written atomically
"""
