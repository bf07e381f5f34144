// libmilter_context.hpp - MtaContext over libmilter's SMFICTX.
#pragma once

#include <libmilter/mfapi.h>

#include "milter/mta_context.hpp"

namespace mailwarden::milter {

/// Wraps the SMFICTX of the current callback; valid only during that callback.
class LibmilterContext final : public MtaContext {
  public:
    explicit LibmilterContext(SMFICTX* ctx) : ctx_(ctx) {}

    std::optional<std::string> macro(std::string_view name) const override;
    util::Result<void> set_reply(const smtp::Reply& reply) override;
    util::Result<void> add_header(const std::string& name, const std::string& value) override;
    util::Result<void> insert_header(int index, const std::string& name,
                                     const std::string& value) override;
    util::Result<void> remove_header(int index, const std::string& name) override;
    util::Result<void> quarantine(const std::string& reason) override;

  private:
    SMFICTX* ctx_;
};

}  // namespace mailwarden::milter
