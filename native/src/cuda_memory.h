// The CUDA caching allocator's statistics (torch.cuda.max_memory_allocated and its kin), where
// the binding is built against a CUDA libtorch (see cuda_memory.cpp).
#pragma once
#include <napi.h>

// cudaMemoryStats(device) → { allocated, peakAllocated, reserved, peakReserved } in bytes, or null
// where this build cannot read them (a CPU libtorch, or no CUDA headers at build time).
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info);

// cudaResetPeakMemoryStats(device) → boolean: the peaks start again from the current figures
// (torch.cuda.reset_peak_memory_stats); false where this build cannot read them.
Napi::Value CudaResetPeakMemoryStats(const Napi::CallbackInfo& info);
