"""Contextual attention (Yu et al. 2018, "Generative Image Inpainting with Contextual Attention", section 3.2) as
JiahuiYu/generative_inpainting's inpaint_ops.contextual_attention, batched (unfold and matrix products for the
matching and the pasting) instead of its per-image conv2d / conv2d_transpose loop.

Foreground features f (the hole) are matched to 3x3 patches of background features b at 1/rate resolution: the
score is f's patch dotted with b's patch divided by b's patch norm (cosine similarity up to |f's patch|, which a
softmax over the background patches ignores but for its scale), fused along the diagonals so neighbouring
foreground pixels prefer neighbouring background patches, masked so only patches wholly outside the hole count,
softmaxed with scale 10 and pasted back as the matching 2*rate x 2*rate patches of b at full resolution (a
transposed conv, stride rate, each pixel covered by four patches, hence / 4).

Where this differs from theirs: the mask is read per image (theirs takes the first image's mask for the whole
batch, as its training draws one mask per batch); identical when the batch shares a mask.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _fuse(scores: torch.Tensor, fg: tuple[int, int], bg: tuple[int, int], k: int) -> torch.Tensor:
    """Theirs' `fuse`: sum scores along the diagonal (foreground i+d, background j+d) of the (P, L) score matrix in
    row-major order, then again in column-major order, with a k x k identity kernel. A foreground pixel whose
    neighbours match the neighbours of a background patch scores higher: coherent patches win over scattered."""
    n = scores.shape[0]
    (fh, fw), (bh, bw) = fg, bg
    eye = torch.eye(k, dtype=scores.dtype, device=scores.device).view(1, 1, k, k)
    s = F.conv2d(scores.view(n, 1, fh * fw, bh * bw), eye, padding=k // 2)
    s = s.view(n, fh, fw, bh, bw).permute(0, 2, 1, 4, 3).reshape(n, 1, fw * fh, bw * bh)
    s = F.conv2d(s, eye, padding=k // 2)
    return s.view(n, fw, fh, bw, bh).permute(0, 2, 1, 4, 3).reshape(n, fh * fw, bh * bw)


class ContextualAttention(nn.Module):
    """y = CA(f, b, mask): f's hole rebuilt from b's known patches. f, b: (N, C, H, W) with H, W multiples of rate;
    mask: (N or 1, 1, h, w), 1 = hole, at any size (resized by nearest neighbour, as theirs). No parameters."""

    def __init__(self, patch_size: int = 3, rate: int = 2, fuse_size: int = 3, softmax_scale: float = 10.0,
                 fuse: bool = True):
        super().__init__()
        self.patch_size, self.rate, self.fuse_size = patch_size, rate, fuse_size
        self.softmax_scale, self.fuse = softmax_scale, fuse

    def attention(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(N, P, L): for each of f's P positions at 1/rate (row-major), the weights over b's L patches."""
        r, k = self.rate, self.patch_size
        fs = (f.shape[-2] // r, f.shape[-1] // r)
        bs = (b.shape[-2] // r, b.shape[-1] // r)
        # theirs downsamples by nearest neighbour (every rate-th pixel) for matching
        f_small = F.interpolate(f, size=fs, mode="nearest")
        b_small = F.interpolate(b, size=bs, mode="nearest")
        w = F.unfold(b_small, k, padding=k // 2)  # (N, C*k*k, L), zero padding as TF's SAME
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-4)
        scores = F.unfold(f_small, k, padding=k // 2).transpose(1, 2) @ w  # (N, P, L)
        if self.fuse:
            scores = _fuse(scores, fs, bs, self.fuse_size)
        if mask is None:
            valid = torch.ones_like(scores[:, :1])
        else:  # a background patch counts only if no pixel of it is in the hole
            m = F.interpolate(mask.to(scores.dtype), size=bs, mode="nearest")
            valid = (F.unfold(m, k, padding=k // 2).mean(dim=1, keepdim=True) == 0).to(scores.dtype)  # (N|1, 1, L)
        scores = scores * valid
        return torch.softmax(scores * self.softmax_scale, dim=2) * valid

    def forward(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        r = self.rate
        attention = self.attention(f, b, mask)
        # b's 2r x 2r patches at stride r, TF-SAME padded (r // 2 before, the rest after): one per matching patch
        n, c = b.shape[:2]
        fh, fw = f.shape[-2] // r, f.shape[-1] // r
        pad = (r // 2, r - r // 2, r // 2, r - r // 2)
        raw = F.unfold(F.pad(b, pad), 2 * r, stride=r)  # (N, C*4r^2, L), channels ordered (C, 2r, 2r)
        # theirs' conv2d_transpose (stride r, the 2r x 2r patches as filters), written as a matrix product and
        # four shifted adds: kernel row a = a_hi * r + a_lo lands in output cell i + a_hi, row a_lo. F.fold or a
        # conv with data as weights would do it too, but neither exports to ONNX for sizes known only at run time
        cols = (raw @ attention.transpose(1, 2)).view(n, c, 2, r, 2, r, fh, fw)
        pasted = 0
        for a_hi in (0, 1):
            for b_hi in (0, 1):
                block = cols[:, :, a_hi, :, b_hi].permute(0, 1, 4, 2, 5, 3).reshape(n, c, fh * r, fw * r)
                pasted = pasted + F.pad(block, (b_hi * r, (1 - b_hi) * r, a_hi * r, (1 - a_hi) * r))
        # crop the padding back off; each pixel got four overlapping patches (theirs' / 4.)
        return pasted[..., r // 2:r // 2 + f.shape[-2], r // 2:r // 2 + f.shape[-1]] / 4.0
