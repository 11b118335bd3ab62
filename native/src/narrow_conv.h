// The generators' last convolution (reflection padding, then a K×K convolution to the image's
// few channels) in one pass, for synthesis (see narrow_conv.cpp).
#pragma once
#include <napi.h>

// reflectConvNarrow(input [N, C, H, W], weight [O, C, K, K] with O ≤ 4 and K odd, bias [O] | null)
// → conv2d(reflectionPad(input, K/2), weight, bias) as [N, O, H, W]. No autograd (inference).
Napi::Value ReflectConvNarrow(const Napi::CallbackInfo& info);
