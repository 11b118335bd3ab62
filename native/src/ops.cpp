// Calls any ATen operator through the dispatcher by its schema name. Arguments are converted from
// JS values by the argument types in the operator's schema, so one converter serves every op, and
// the call passes through the autograd kernels like any C++ or Python call does.
#include "ops.h"
#include "errors.h"
#include "tensor_wrap.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <cmath>
#include <mutex>
#include <vector>

namespace {

std::vector<c10::OperatorHandle> gOps;

std::string describe(const c10::OperatorHandle& op, const c10::Argument& arg) {
  return op.schema().name() + (op.schema().overload_name().empty() ? "" : "." + op.schema().overload_name()) +
         " argument '" + arg.name() + "' (" + arg.real_type()->str() + ")";
}

[[noreturn]] void badArg(const c10::OperatorHandle& op, const c10::Argument& arg, const std::string& expected) {
  throw std::invalid_argument(describe(op, arg) + ": expected " + expected);
}

int64_t toInt(const Napi::Value& v, const c10::OperatorHandle& op, const c10::Argument& arg) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) badArg(op, arg, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) badArg(op, arg, "an integer, got " + std::to_string(d));
  return (int64_t)d;
}

c10::Scalar toScalar(const Napi::Value& v, const c10::OperatorHandle& op, const c10::Argument& arg) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless;
    return c10::Scalar((int64_t)v.As<Napi::BigInt>().Int64Value(&lossless));
  }
  if (!v.IsNumber()) badArg(op, arg, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // A JS number that is a whole number acts like a Python int, so `int_tensor + 1` stays an
  // integer tensor; fractional numbers act like Python floats.
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return c10::Scalar((int64_t)d);
  return c10::Scalar(d);
}

// ScalarType, Layout and MemoryFormat are ints in the schema's type system; real_type tells which.
int64_t toEnum(const Napi::Value& v, const c10::TypePtr& realType, const c10::OperatorHandle& op,
               const c10::Argument& arg) {
  if (!v.IsString()) return toInt(v, op, arg);
  std::string s = v.As<Napi::String>().Utf8Value();
  switch (realType->kind()) {
    case c10::TypeKind::ScalarTypeType: return (int64_t)dtypeFromName(s);
    case c10::TypeKind::MemoryFormatType:
      if (s == "contiguous") return (int64_t)at::MemoryFormat::Contiguous;
      if (s == "channels_last") return (int64_t)at::MemoryFormat::ChannelsLast;
      if (s == "preserve") return (int64_t)at::MemoryFormat::Preserve;
      badArg(op, arg, "'contiguous', 'channels_last' or 'preserve'");
    case c10::TypeKind::LayoutType:
      if (s == "strided") return (int64_t)at::kStrided;
      badArg(op, arg, "'strided'");
    default: badArg(op, arg, "an integer");
  }
}

c10::IValue convert(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::TypePtr& realType,
                    const c10::OperatorHandle& op, const c10::Argument& arg) {
  using K = c10::TypeKind;
  switch (type->kind()) {
    case K::OptionalType: {
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      auto elem = type->expectRef<c10::OptionalType>().getElementType();
      auto realElem = realType->kind() == K::OptionalType ? realType->expectRef<c10::OptionalType>().getElementType() : elem;
      return convert(env, v, elem, realElem, op, arg);
    }
    case K::TensorType:
      if (!TensorWrap::Is(env, v)) badArg(op, arg, "a tensor");
      return TensorWrap::From(env, v, describe(op, arg).c_str());
    case K::IntType:
      if (realType->kind() != K::IntType) return toEnum(v, realType, op, arg);
      return toInt(v, op, arg);
    case K::SymIntType:
      return toInt(v, op, arg);
    case K::FloatType:
      if (!v.IsNumber()) badArg(op, arg, "a number");
      return v.As<Napi::Number>().DoubleValue();
    case K::BoolType:
      if (!v.IsBoolean()) badArg(op, arg, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case K::NumberType:
      return toScalar(v, op, arg);
    case K::StringType:
      if (!v.IsString()) badArg(op, arg, "a string");
      return v.As<Napi::String>().Utf8Value();
    case K::DeviceObjType:
      if (!v.IsString()) badArg(op, arg, "a device string such as 'cpu' or 'cuda:0'");
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case K::GeneratorType:
      badArg(op, arg, "null (the default generator)");
    case K::ListType: {
      auto elem = type->expectRef<c10::ListType>().getElementType();
      // `int[2] stride=1`: a single number stands for the whole list, as in Python.
      if ((elem->kind() == K::IntType || elem->kind() == K::SymIntType) && v.IsNumber()) {
        size_t n = arg.N() ? *arg.N() : 1;
        return c10::List<int64_t>(std::vector<int64_t>(n, toInt(v, op, arg)));
      }
      if (!v.IsArray()) badArg(op, arg, "an array");
      auto a = v.As<Napi::Array>();
      uint32_t n = a.Length();
      switch (elem->kind()) {
        case K::IntType: case K::SymIntType: {
          c10::List<int64_t> out;
          out.reserve(n);
          for (uint32_t i = 0; i < n; i++) out.push_back(toInt(a.Get(i), op, arg));
          return out;
        }
        case K::FloatType: {
          c10::List<double> out;
          for (uint32_t i = 0; i < n; i++) {
            if (!a.Get(i).IsNumber()) badArg(op, arg, "an array of numbers");
            out.push_back(a.Get(i).As<Napi::Number>().DoubleValue());
          }
          return out;
        }
        case K::BoolType: {
          c10::List<bool> out;
          for (uint32_t i = 0; i < n; i++) out.push_back(a.Get(i).ToBoolean().Value());
          return out;
        }
        case K::TensorType: {
          c10::List<at::Tensor> out;
          out.reserve(n);
          for (uint32_t i = 0; i < n; i++) out.push_back(TensorWrap::From(env, a.Get(i), describe(op, arg).c_str()));
          return out;
        }
        case K::OptionalType: {
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < n; i++) {
            auto e = a.Get(i);
            if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
            else out.push_back(TensorWrap::From(env, e, describe(op, arg).c_str()));
          }
          return out;
        }
        default: break;
      }
      badArg(op, arg, "(unsupported list element type " + elem->str() + ")");
    }
    default:
      badArg(op, arg, "(unsupported argument type)");
  }
}

Napi::Value toJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return TensorWrap::Wrap(env, t);
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, (double)v.toInt());
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, TensorWrap::Wrap(env, list.get(i)));
    return arr;
  }
  if (v.isIntList()) {
    auto list = v.toIntList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, Napi::Number::New(env, (double)list.get(i)));
    return arr;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) arr.Set(i, toJs(env, elems[i]));
    return arr;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, toJs(env, list[i]));
    return arr;
  }
  throw std::invalid_argument("unsupported return type " + v.tagKind());
}

}  // namespace

Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (name.find("::") == std::string::npos) name = "aten::" + name;
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle) {
      throw std::invalid_argument("no operator " + name + (overload.empty() ? "" : "." + overload) +
                                  " in this libtorch (check the name and overload in native_functions.yaml)");
    }
    gOps.push_back(*handle);
    return Napi::Number::New(env, (double)(gOps.size() - 1));
  });
}

static const c10::OperatorHandle& opById(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "op id must be a number");
  auto id = info[0].As<Napi::Number>().Int64Value();
  if (id < 0 || (size_t)id >= gOps.size()) throw Napi::RangeError::New(info.Env(), "unknown op id");
  return gOps[id];
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  auto& op = opById(info);
  std::ostringstream s;
  s << op.schema();
  return Napi::String::New(info.Env(), s.str());
}

Napi::Value CallOp(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto& op = opById(info);
  return guarded(env, [&]() -> Napi::Value {
    const auto& schema = op.schema();
    const auto& formal = schema.arguments();
    if (!info[1].IsArray()) throw std::invalid_argument("callOp: arguments must be an array");
    auto args = info[1].As<Napi::Array>();
    if (args.Length() > formal.size()) {
      throw std::invalid_argument(schema.name() + ": " + std::to_string(args.Length()) + " arguments given, the schema takes " +
                                  std::to_string(formal.size()));
    }
    torch::jit::Stack stack;
    stack.reserve(formal.size());
    for (size_t i = 0; i < formal.size(); i++) {
      const auto& arg = formal[i];
      Napi::Value v = i < args.Length() ? args.Get(i) : env.Undefined();
      if (v.IsUndefined()) {
        if (!arg.default_value()) badArg(op, arg, "a value (the argument has no default)");
        stack.push_back(*arg.default_value());
      } else {
        stack.push_back(convert(env, v, arg.type(), arg.real_type(), op, arg));
      }
    }
    op.callBoxed(&stack);
    if (stack.empty()) return env.Undefined();
    if (stack.size() == 1) return toJs(env, stack[0]);
    auto arr = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); i++) arr.Set(i, toJs(env, stack[i]));
    return arr;
  });
}
