// mta_context.hpp - what a session may ask of the MTA, as an interface, so the session and
// apply_verdict are tested without libmilter (FakeMtaContext in tests/support).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "smtp/reply.hpp"
#include "util/error.hpp"

namespace mailwarden::milter {

/// The MTA side of one milter connection. Calls are valid only inside a callback.
class MtaContext {
  public:
    virtual ~MtaContext() = default;
    /// A macro's value ("i", "{auth_authen}"), or nullopt when the MTA did not send it.
    virtual std::optional<std::string> macro(std::string_view name) const = 0;
    /// Sets the reply for the refusal that the callback is about to return.
    virtual util::Result<void> set_reply(const smtp::Reply& reply) = 0;
    /// Appends a header field (end of message only).
    virtual util::Result<void> add_header(const std::string& name, const std::string& value) = 0;
    /// Inserts a header field at `index` (0 = top; end of message only).
    virtual util::Result<void> insert_header(int index, const std::string& name,
                                             const std::string& value) = 0;
    /// Removes the `index`-th (1-based) header field called `name` (end of message only).
    virtual util::Result<void> remove_header(int index, const std::string& name) = 0;
    /// Puts the message into the MTA's hold queue (end of message only).
    virtual util::Result<void> quarantine(const std::string& reason) = 0;
    /// Replaces the whole message body (end of message only; CRLF line ends).
    virtual util::Result<void> replace_body(const std::string& body) = 0;
};

}  // namespace mailwarden::milter
