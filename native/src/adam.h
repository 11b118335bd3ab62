// Adam's update of one parameter in one pass over memory (see adam.cpp).
#pragma once
#include <napi.h>

// adamUpdate(param, grad, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay) → boolean:
// false (nothing done) where the fused kernel does not apply, and the caller runs the op sequence.
Napi::Value AdamUpdate(const Napi::CallbackInfo& info);

// adamFusedUpdates() → number: how many parameter updates the fused kernel has done in this
// process (for tests: which path an update took).
Napi::Value AdamFusedUpdates(const Napi::CallbackInfo& info);

// adamBackward(outputs[], grads[] | null, retainGraph, params[], expAvg[], expAvgSq[],
// hyper: Float64Array of [step, lr, beta1, beta2, eps, weightDecay] per parameter) → Uint8Array:
// back-propagates into the parameters only and updates each with Adam inside the backward pass,
// as soon as its gradient is complete, on any device; no gradient is kept. Entry i of the result
// is 1 where parameter i received a gradient (and was updated).
Napi::Value AdamBackward(const Napi::CallbackInfo& info);
