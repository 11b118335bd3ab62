// Instance normalisation (no affine, no running statistics) and an optional ReLU, in place, for
// inference (see instance_norm.cpp).
#pragma once
#include <napi.h>

// instanceNormInPlace(x [N, C, H, W] contiguous float/double CPU, eps, relu) → x, normalised per
// (n, c) plane with its biased variance, then clamped at 0 where `relu`.
Napi::Value InstanceNormInPlace(const Napi::CallbackInfo& info);
