// unique_handle.hpp - RAII ownership of a C library handle (redisContext, ub_ctx, EVP_PKEY...).
#pragma once

#include <memory>

namespace mailwarden::util {

/// Deleter that calls a C free function; `UniqueHandle<ub_ctx, ub_ctx_delete>` owns a ub_ctx.
template <auto FreeFunction>
struct CallFree {
    template <class T>
    void operator()(T* handle) const noexcept {
        if (handle != nullptr) {
            FreeFunction(handle);
        }
    }
};

/// A unique_ptr that frees its handle with FreeFunction.
template <class T, auto FreeFunction>
using UniqueHandle = std::unique_ptr<T, CallFree<FreeFunction>>;

}  // namespace mailwarden::util
