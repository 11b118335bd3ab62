// c10d process groups and stores (see dist.cpp); registers distInfo and distInit on the module.
#pragma once
#include <napi.h>

void RegisterDist(Napi::Env env, Napi::Object exports);
