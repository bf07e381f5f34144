// callbacks.hpp - the smfiDesc with mailwarden's extern "C" callbacks.
#pragma once

#include <libmilter/mfapi.h>

namespace mailwarden::milter {

/// The filter description to pass to smfi_register.
smfiDesc* filter_description();

}  // namespace mailwarden::milter
