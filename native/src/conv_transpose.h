// A transposed convolution run by oneDNN (see conv_transpose.cpp).
#pragma once
#include <napi.h>

// convTranspose2dMkldnn(input [N, Cin, H, W], weight [Cin, Cout, kh, kw], bias [Cout] | null,
// stride, padding, outputPadding, dilation: [h, w] each) → [N, Cout, H', W'], as
// conv_transpose2d with groups 1, differentiable with respect to all three tensors.
Napi::Value ConvTranspose2dMkldnn(const Napi::CallbackInfo& info);
