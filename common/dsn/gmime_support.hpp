// gmime_support.hpp - GMime 3 plumbing shared by the DSN parser and the bounce rewriter:
// one-time library initialisation and RAII ownership of GObjects.
#pragma once

#include <gmime/gmime.h>

#include <mutex>

#include "util/unique_handle.hpp"

namespace mailwarden::dsn {

/// g_object_unref as a deleter.
inline void gmime_unref(gpointer object) {
    g_object_unref(object);
}

/// Owns one reference to a GObject.
template <class T>
using GObjectHandle = util::UniqueHandle<T, gmime_unref>;

/// g_mime_init() once per process; thread-safe.
inline void ensure_gmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

}  // namespace mailwarden::dsn
