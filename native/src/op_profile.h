// libtorch's own (legacy) operator profiler, for the benchmarks: which ATen ops take the time.
#pragma once
#include <napi.h>

// profileStart(path): records every ATen op this thread (and the autograd engine on its behalf)
// runs until profileStop(), which writes them to `path` as a Chrome trace (chrome://tracing).
Napi::Value ProfileStart(const Napi::CallbackInfo& info);
Napi::Value ProfileStop(const Napi::CallbackInfo& info);
