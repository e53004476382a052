// N-API bindings for the zkmeter kernel (kernel.h).
//
// Mechanical by design: each export checks its arguments' types and buffer
// lengths (so a bad call throws instead of reading out of bounds), calls one
// kernel function for a whole vector, and returns the kernel's status as
// `code + 8 * badIndex` (0 means success). lib/backend/native.ts maps statuses
// to typed errors; nothing here knows about proofs or meters.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

#include "kernel.h"

namespace {

// Tags the table handles tableCreate returns (random 128 bits, fixed for this addon).
const napi_type_tag kTableTag = {0x7a6b6d6574657231ULL, 0x9c4f1d2e83b5a607ULL};

std::once_flag g_init_once;
int g_init_status = ZK_OK;

// Call the kernel first, then build the status: C++ leaves the evaluation order
// of function arguments unspecified, so `Status(zk_f(..., &bad), bad)` is a bug.
double Status(int code, size_t bad) {
  return code == ZK_OK ? 0.0 : static_cast<double>(code) + 8.0 * static_cast<double>(bad);
}

// A Uint8Array argument holding at least `count` elements of `size` bytes, or nullptr when
// `optional` and the value is null/undefined. The length check divides instead of forming
// count * size, which could wrap size_t to a small number and pass a short buffer.
uint8_t* Bytes(const Napi::CallbackInfo& info, size_t i, size_t count, size_t size, const char* name,
               bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  auto arr = v.As<Napi::Uint8Array>();
  if (size != 0 && count > arr.ByteLength() / size) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " is too short");
  }
  return arr.Data();
}

// A count, offset or stride: an integer in [0, 1e12]. 1e12 is far above any count a buffer can
// back, and keeps code + 8 * index exact in a double status. The bounds are checked before the
// conversion to size_t (converting an out-of-range double is undefined behaviour); the SIZE_MAX
// cap matters where size_t has 32 bits.
size_t Count(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 1e12 || d >= static_cast<double>(SIZE_MAX) || d != std::floor(d)) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer from 0 to 1e12");
  }
  return static_cast<size_t>(d);
}

// A count that may be omitted (undefined means 0), for arguments added to an existing export.
size_t OptionalCount(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return info[i].IsUndefined() ? 0 : Count(info, i, name);
}

Napi::Value Decompress(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 2, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* in = Bytes(info, 1, n, 33, "points");
  size_t bad = 0;
  int code = zk_decompress(out, in, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value Compress(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 2, "count");
  uint8_t* out = Bytes(info, 0, n, 33, "out");
  uint8_t* in = Bytes(info, 1, n, 64, "points");
  size_t bad = 0;
  int code = zk_compress(out, in, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value Validate(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 1, "count");
  uint8_t* in = Bytes(info, 0, n, 64, "points");
  size_t bad = 0;
  int code = zk_validate(in, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 3, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* a = Bytes(info, 1, n, 64, "a");
  uint8_t* b = Bytes(info, 2, n, 64, "b");
  size_t bad = 0;
  int code = zk_add(out, a, b, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value Negate(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 2, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* a = Bytes(info, 1, n, 64, "points");
  size_t bad = 0;
  int code = zk_negate(out, a, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value Mul(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 3, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* p = Bytes(info, 1, n, 64, "points");
  uint8_t* k = Bytes(info, 2, n, 32, "scalars");
  bool consttime = info[4].ToBoolean().Value();
  size_t bad = 0;
  int code = zk_mul(out, p, k, n, consttime ? 1 : 0, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value MulGen(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 2, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* k = Bytes(info, 1, n, 32, "scalars");
  size_t bad = 0;
  int code = zk_mul_gen(out, k, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value MsmConst(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 3, "count");
  uint8_t* out = Bytes(info, 0, 1, 64, "out");
  uint8_t* p = Bytes(info, 1, n, 64, "points", n == 0);
  uint8_t* k = Bytes(info, 2, n, 32, "scalars", n == 0);
  size_t bad = 0;
  int code = zk_msm_const(out, p, k, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value SelectSum(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 4, "count");
  uint8_t* out = Bytes(info, 0, 1, 64, "out");
  uint8_t* a = Bytes(info, 1, n, 64, "a", n == 0);
  uint8_t* b = Bytes(info, 2, n, 64, "b", n == 0);
  uint8_t* sel = Bytes(info, 3, n, 1, "selectors", n == 0);
  // Optional extra terms sum k[j]*p[j]: points (5), scalars (6), their count (7).
  size_t m = OptionalCount(info, 7, "extraCount");
  uint8_t* p = Bytes(info, 5, m, 64, "extraPoints", m == 0);
  uint8_t* k = Bytes(info, 6, m, 32, "extraScalars", m == 0);
  size_t bad = 0;
  int code = zk_select_sum(out, a, b, sel, n, p, k, m, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value SchnorrSign(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 4, "count");
  uint8_t* out = Bytes(info, 0, n, 64, "out");
  uint8_t* msgs = Bytes(info, 1, n, 32, "messages");
  uint8_t* keys = Bytes(info, 2, n, 32, "secretKeys");
  uint8_t* aux = Bytes(info, 3, n, 32, "aux");
  size_t bad = 0;
  int code = zk_schnorr_sign(out, msgs, keys, aux, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

Napi::Value ScalarInvert(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 2, "count");
  uint8_t* out = Bytes(info, 0, n, 32, "out");
  uint8_t* in = Bytes(info, 1, n, 32, "scalars");
  size_t bad = 0;
  int code = zk_scalar_invert(out, in, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

// scalarTensorAcc(acc, offset, stride, k, pairs, w, c|null)
Napi::Value ScalarTensorAcc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t offset = Count(info, 1, "offset");
  size_t stride = Count(info, 2, "stride");
  size_t k = Count(info, 3, "k");
  // k is bounded before it is used as a shift count (shifting by >= 64 is undefined).
  if (k > 30 || stride == 0) throw Napi::RangeError::New(env, "k must be <= 30 and stride > 0");
  uint8_t* acc = Bytes(info, 0, 0, 32, "acc");
  size_t accLen = info[0].As<Napi::Uint8Array>().ByteLength() / 32;
  // The last entry written is offset + stride * (2^k - 1); require it < accLen without forming
  // that sum or product, which crafted offsets and strides would wrap to a small index.
  size_t last = (size_t(1) << k) - 1;
  if (offset >= accLen || (last > 0 && stride > (accLen - 1 - offset) / last)) {
    throw Napi::RangeError::New(env, "acc is too short");
  }
  uint8_t* pairs = Bytes(info, 4, k, 64, "pairs", k == 0);
  uint8_t* w = Bytes(info, 5, 1, 32, "w");
  uint8_t* c = Bytes(info, 6, 1, 32, "c", true);
  size_t bad = 0;
  int code = zk_scalar_tensor_acc(acc, accLen, offset, stride, k, pairs, w, c, &bad);
  return Napi::Number::New(env, Status(code, bad));
}

Napi::Value ProgressionX(const Napi::CallbackInfo& info) {
  size_t n = Count(info, 3, "count");
  uint8_t* out = Bytes(info, 0, n, 32, "out");
  uint8_t* start = Bytes(info, 1, 1, 64, "start");
  uint8_t* step = Bytes(info, 2, 1, 64, "step");
  size_t bad = 0;
  int code = zk_progression_x(out, start, step, n, &bad);
  return Napi::Number::New(info.Env(), Status(code, bad));
}

// Returns an External owning the table, or a status number on invalid input.
Napi::Value TableCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = Count(info, 1, "count");
  uint8_t* p = Bytes(info, 0, n, 64, "points");
  int status = ZK_OK;
  size_t bad = 0;
  zk_table* t = zk_table_create(p, n, &status, &bad);
  if (t == nullptr) return Napi::Number::New(env, Status(status, bad));
  int64_t bytes = static_cast<int64_t>(zk_table_bytes(t));
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  auto handle = Napi::External<zk_table>::New(env, t, [bytes](Napi::Env env, zk_table* table) {
    zk_table_destroy(table);
    Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
  });
  handle.TypeTag(&kTableTag);
  return handle;
}

const zk_table* Table(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  // The type tag tells our tables from any other External (another addon's), whose data
  // pointer would otherwise be read as a zk_table.
  if (!v.IsExternal() || !v.As<Napi::External<zk_table>>().CheckTypeTag(&kTableTag)) {
    throw Napi::TypeError::New(info.Env(), "table must be a handle from tableCreate");
  }
  return v.As<Napi::External<zk_table>>().Data();
}

Napi::Value TableSize(const Napi::CallbackInfo& info) {
  const zk_table* t = Table(info, 0);
  return Napi::Number::New(info.Env(), t ? static_cast<double>(zk_table_size(t)) : 0.0);
}

// msm(out, table, tableScalars, nt, points, stride, scalars, n, gScalar)
Napi::Value Msm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t nt = Count(info, 3, "tableCount");
  size_t stride = Count(info, 5, "stride");
  size_t n = Count(info, 7, "count");
  if (stride != 33 && stride != 64) throw Napi::RangeError::New(env, "stride must be 33 or 64");
  const zk_table* t = Table(info, 1);
  if (nt > 0 && (t == nullptr || nt > zk_table_size(t))) {
    throw Napi::RangeError::New(env, "tableCount exceeds the table");
  }
  uint8_t* out = Bytes(info, 0, 1, 64, "out");
  uint8_t* tk = Bytes(info, 2, nt, 32, "tableScalars", nt == 0);
  uint8_t* pts = Bytes(info, 4, n, stride, "points", n == 0);
  uint8_t* k = Bytes(info, 6, n, 32, "scalars", n == 0);
  uint8_t* g = Bytes(info, 8, 1, 32, "gScalar", true);
  size_t bad = 0;
  int status = zk_msm(out, t, tk, nt, pts, static_cast<int>(stride), k, n, g, &bad);
  return Napi::Number::New(env, Status(status, bad));
}

Napi::Value MsmScratchBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(zk_msm_scratch_bytes(Count(info, 0, "count"))));
}

Napi::Value MsmBatchCapacity(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(zk_msm_batch_capacity(Count(info, 0, "count"))));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // One libsecp256k1 context per process, shared read-only by every thread.
  std::call_once(g_init_once, [] {
    unsigned char seed[32];
    std::random_device rd;
    for (size_t i = 0; i < sizeof(seed); i += 4) {
      uint32_t w = rd();
      for (size_t j = 0; j < 4; j++) seed[i + j] = static_cast<unsigned char>(w >> (8 * j));
    }
    g_init_status = zk_init(seed);
  });
  if (g_init_status != ZK_OK) {
    throw Napi::Error::New(env, "zkmeter: libsecp256k1 context creation failed");
  }
  exports.Set("decompress", Napi::Function::New(env, Decompress));
  exports.Set("compress", Napi::Function::New(env, Compress));
  exports.Set("validate", Napi::Function::New(env, Validate));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("negate", Napi::Function::New(env, Negate));
  exports.Set("mul", Napi::Function::New(env, Mul));
  exports.Set("mulGen", Napi::Function::New(env, MulGen));
  exports.Set("msmConst", Napi::Function::New(env, MsmConst));
  exports.Set("selectSum", Napi::Function::New(env, SelectSum));
  exports.Set("scalarTensorAcc", Napi::Function::New(env, ScalarTensorAcc));
  exports.Set("scalarInvert", Napi::Function::New(env, ScalarInvert));
  exports.Set("schnorrSign", Napi::Function::New(env, SchnorrSign));
  exports.Set("progressionX", Napi::Function::New(env, ProgressionX));
  exports.Set("tableCreate", Napi::Function::New(env, TableCreate));
  exports.Set("tableSize", Napi::Function::New(env, TableSize));
  exports.Set("msm", Napi::Function::New(env, Msm));
  exports.Set("msmScratchBytes", Napi::Function::New(env, MsmScratchBytes));
  exports.Set("msmBatchCapacity", Napi::Function::New(env, MsmBatchCapacity));
  return exports;
}

}  // namespace

NODE_API_MODULE(zkmeter, Init)
