// libmilter_context.hpp - MtaContext over libmilter's SMFICTX.
#pragma once

#include <libmilter/mfapi.h>

#include "milter/mta_context.hpp"

namespace mailwarden::milter {

/// Wraps the SMFICTX of the current callback; valid only during that callback. `protocol`
/// is the SMFIP_* set negotiated on the connection: with SMFIP_HDR_LEADSPC the MTA takes
/// header values as they are written, so added values get their leading space here.
class LibmilterContext final : public MtaContext {
  public:
    LibmilterContext(SMFICTX* ctx, unsigned long protocol) : ctx_(ctx), protocol_(protocol) {}

    std::optional<std::string> macro(std::string_view name) const override;
    util::Result<void> set_reply(const smtp::Reply& reply) override;
    util::Result<void> add_header(const std::string& name, const std::string& value) override;
    util::Result<void> insert_header(int index, const std::string& name,
                                     const std::string& value) override;
    util::Result<void> remove_header(int index, const std::string& name) override;
    util::Result<void> quarantine(const std::string& reason) override;
    util::Result<void> replace_body(const std::string& body) override;

  private:
    std::string milter_value(const std::string& value) const;

    SMFICTX* ctx_;
    unsigned long protocol_;
};

}  // namespace mailwarden::milter
