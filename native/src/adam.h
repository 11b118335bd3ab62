// Adam's update of one parameter in one pass over memory (see adam.cpp).
#pragma once
#include <napi.h>

// adamUpdate(param, grad, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay) → boolean:
// false (nothing done) where the fused kernel does not apply, and the caller runs the op sequence.
Napi::Value AdamUpdate(const Napi::CallbackInfo& info);

// adamFusedUpdates() → number: how many parameter updates the fused kernel has done in this
// process (for tests: which path an update took).
Napi::Value AdamFusedUpdates(const Napi::CallbackInfo& info);
