// Adam's update (see adam.cpp): the one-pass CPU kernel, ATen's fused and foreach multi-tensor
// paths, PyTorch's single-tensor op sequence.
#pragma once
#include <napi.h>

// adamUpdate(param, grad, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay): one
// parameter's update, on the path that suits it.
Napi::Value AdamUpdate(const Napi::CallbackInfo& info);

// adamStep(params[], grads[], expAvg[], expAvgSq[], hyper: Float64Array of [step, lr, beta1,
// beta2, eps, weightDecay] per parameter): every parameter's update at once (optimizer.step()):
// multi-tensor calls on CUDA.
Napi::Value AdamStep(const Napi::CallbackInfo& info);

// adamUpdateCounts() → { cpuKernel, fusedAdam, foreach, ops, fusedAdamBuilt, fusedAdamMissing }:
// parameter updates done on each path in this process (for tests and the GPU check: which path an
// update took), whether this build has ATen's `_fused_adam_`, and the device types ('cpu', 'cuda')
// whose dispatcher turned out to have no kernel for it.
Napi::Value AdamUpdateCounts(const Napi::CallbackInfo& info);

// adamPath(path?: 'auto' | 'ops' | 'foreach' | 'fused') → the previous choice: forces one path
// wherever it can run (for tests and the GPU check, which compare the paths); 'auto' by default.
Napi::Value AdamPathSelect(const Napi::CallbackInfo& info);

// adamBackward(outputs[], grads[] | null, retainGraph, params[], expAvg[], expAvgSq[],
// hyper: Float64Array of [step, lr, beta1, beta2, eps, weightDecay] per parameter) → Uint8Array:
// back-propagates into the parameters only and updates each with Adam inside the backward pass,
// as soon as its gradient is complete, on any device; no gradient is kept. Entry i of the result
// is 1 where parameter i received a gradient (and was updated).
Napi::Value AdamBackward(const Napi::CallbackInfo& info);
