// A convolution over a one-hot label map (and a 0/1 boundary map) done as column lookups (see onehot_conv.cpp).
#pragma once
#include <napi.h>

// onehotConv2d(weight [Cout, Cin, K, K], labels int64 [N, H, W], edges [N, H, W] | null, labelNc)
// → [N, Cout, H, W]: conv2d(reflectionPad(concat(oneHot(labels), edges)), weight[:, :labelNc (+1)])
// without bias, differentiable with respect to the weight.
Napi::Value OnehotConv2d(const Napi::CallbackInfo& info);
