#pragma once
#include <napi.h>

// resolveOp(name, overload) -> op id; opSchema(id) -> schema string;
// callOp(id, args[]) -> result (tensor, number, boolean, null, or an array for tuples and lists).
Napi::Value ResolveOp(const Napi::CallbackInfo& info);
Napi::Value OpSchema(const Napi::CallbackInfo& info);
Napi::Value CallOp(const Napi::CallbackInfo& info);
