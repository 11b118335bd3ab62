#include "op_profile.h"
#include <torch/csrc/autograd/profiler_legacy.h>
#include <memory>
#include "errors.h"

namespace {
// One recording at a time: RecordProfile writes its file when destroyed.
std::unique_ptr<torch::autograd::profiler::RecordProfile> recording;
}  // namespace

Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (recording) throw std::invalid_argument("profileStart: a profile is already being recorded");
    if (!info[0].IsString()) throw std::invalid_argument("profileStart: needs the trace file's path");
    recording = std::make_unique<torch::autograd::profiler::RecordProfile>(info[0].As<Napi::String>().Utf8Value());
    return env.Undefined();
  });
}

Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    recording.reset();
    return env.Undefined();
  });
}
