// native_context.hpp - MtaContext of the native engine: the macros the MTA sent per stage
// (looked up as libmilter's smfi_getsymval does), the reply for the next refusal (formatted
// as smfi_setreply/smfi_setmlreply format it), and modification requests, which are only
// appended to the connection's output buffer: they go out with the final reply, in one
// write.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "milter/mta_context.hpp"

namespace mailwarden::milter::native {

/// The macros of one connection, in libmilter's seven slots (connect, HELO, MAIL, RCPT,
/// DATA, end of message, end of headers). A lookup searches the later slots first and
/// takes "x" and "{x}" for the same macro.
class MacroTable {
  public:
    static constexpr std::size_t kSlots = 7;
    /// The slot of a SMFIC_MACRO stage byte ('C', 'H', 'M', 'R', 'T', 'E', 'N'), or nullopt.
    static std::optional<std::size_t> slot_of(char stage);

    void set(std::size_t slot, std::vector<std::pair<std::string, std::string>> macros);
    /// Forgets slots `from` and later (a new stage makes the later stages' macros stale).
    void clear_from(std::size_t from);
    std::optional<std::string> find(std::string_view name) const;

  private:
    std::array<std::vector<std::pair<std::string, std::string>>, kSlots> slots_;
};

/// The reply text libmilter sends in SMFIR_REPLYCODE for `reply` ("550 5.7.1 text",
/// "550-5.7.1 a\r\n550 5.7.1 b"), '%' doubled; an error for what libmilter refuses.
util::Result<std::string> format_reply_text(const smtp::Reply& reply);

class NativeMtaContext final : public MtaContext {
  public:
    /// Modification packets are appended to `out`, which must outlive the context.
    explicit NativeMtaContext(std::string& out) : out_(out) {}

    /// What option negotiation settled: SMFIF_* actions and the milter side's SMFIP_* set.
    void set_negotiated(unsigned long actions, unsigned long protocol) {
        actions_ = actions;
        protocol_ = protocol;
    }
    /// Modifications are allowed only while the end of message is handled.
    void set_end_of_message(bool on) { end_of_message_ = on; }
    MacroTable& macros() { return macros_; }
    /// The reply set for a refusal whose class ('4' or '5') is `klass`; consumed when taken.
    /// A reply of the other class stays for a later refusal, as with libmilter.
    std::optional<std::string> take_reply(char klass);

    std::optional<std::string> macro(std::string_view name) const override;
    util::Result<void> set_reply(const smtp::Reply& reply) override;
    util::Result<void> add_header(const std::string& name, const std::string& value) override;
    util::Result<void> insert_header(int index, const std::string& name,
                                     const std::string& value) override;
    util::Result<void> remove_header(int index, const std::string& name) override;
    util::Result<void> quarantine(const std::string& reason) override;
    /// Replaces the body with `body` (SMFIR_REPLBODY chunks of at most 64 KiB - 1); needs
    /// SMFIF_CHGBODY.
    util::Result<void> replace_body(const std::string& body) override;

  private:
    util::Result<void> allowed(unsigned long action, std::string_view what) const;

    std::string& out_;
    MacroTable macros_;
    std::optional<std::string> reply_;
    unsigned long actions_ = 0;
    unsigned long protocol_ = 0;
    bool end_of_message_ = false;
};

}  // namespace mailwarden::milter::native
