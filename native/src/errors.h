// Every native entry point runs its body through `guarded`, so a libtorch error (c10::Error:
// shape mismatch, bad dtype, ...) or a C++ exception becomes a thrown JS Error with the message,
// instead of aborting the process.
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <stdexcept>

template <typename F>
Napi::Value guarded(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}
