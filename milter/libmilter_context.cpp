#include "milter/libmilter_context.hpp"

#include <array>

#include <fmt/format.h>

#include "milter/negotiation.hpp"

namespace mailwarden::milter {

namespace {

util::Result<void> check(int rc, std::string_view what) {
    if (rc == MI_SUCCESS) {
        return {};
    }
    return util::fail(util::ErrorCode::Unavailable, fmt::format("{} was refused by libmilter "
                                                                "(not negotiated, or the MTA "
                                                                "went away)",
                                                                what));
}

}  // namespace

std::optional<std::string> LibmilterContext::macro(std::string_view name) const {
    const std::string key(name);
    const char* value = smfi_getsymval(ctx_, const_cast<char*>(key.c_str()));
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

util::Result<void> LibmilterContext::set_reply(const smtp::Reply& reply) {
    // smfi_setmlreply takes up to 32 lines as varargs; smtp::Reply guarantees the bound.
    // Lines are passed as "%s"-safe text: libmilter does not interpret '%' here, but the
    // MTA would, so a literal '%' is doubled.
    std::array<std::string, smtp::kMaxReplyLines> lines;
    std::array<char*, smtp::kMaxReplyLines + 1> argv{};
    const std::size_t n = std::min(reply.lines.size(), lines.size());
    for (std::size_t i = 0; i < n; ++i) {
        lines[i] = escape_reply_percent(reply.lines[i]);
        argv[i] = lines[i].data();
    }
    const std::string code = std::to_string(reply.code);
    char* xcode = reply.enhanced.empty() ? nullptr : const_cast<char*>(reply.enhanced.c_str());
    char* rcode = const_cast<char*>(code.c_str());
    int rc = MI_FAILURE;
    if (n <= 1) {
        rc = smfi_setreply(ctx_, rcode, xcode, n == 1 ? argv[0] : nullptr);
    } else {
        // Every argument after the last line is NULL, which ends libmilter's list.
        rc = smfi_setmlreply(ctx_, rcode, xcode, argv[0], argv[1], argv[2], argv[3], argv[4],
                             argv[5], argv[6], argv[7], argv[8], argv[9], argv[10], argv[11],
                             argv[12], argv[13], argv[14], argv[15], argv[16], argv[17], argv[18],
                             argv[19], argv[20], argv[21], argv[22], argv[23], argv[24], argv[25],
                             argv[26], argv[27], argv[28], argv[29], argv[30], argv[31],
                             static_cast<char*>(nullptr));
    }
    return check(rc, "setting the reply");
}

// Header values go out through header_value_to_mta (LF folds, leading space).
std::string LibmilterContext::milter_value(const std::string& value) const {
    return header_value_to_mta(value, protocol_);
}

util::Result<void> LibmilterContext::add_header(const std::string& name, const std::string& value) {
    const std::string folded = milter_value(value);
    return check(
        smfi_addheader(ctx_, const_cast<char*>(name.c_str()), const_cast<char*>(folded.c_str())),
        "adding a header");
}

util::Result<void> LibmilterContext::insert_header(int index, const std::string& name,
                                                   const std::string& value) {
    const std::string folded = milter_value(value);
    return check(smfi_insheader(ctx_, index, const_cast<char*>(name.c_str()),
                                const_cast<char*>(folded.c_str())),
                 "inserting a header");
}

util::Result<void> LibmilterContext::remove_header(int index, const std::string& name) {
    return check(smfi_chgheader(ctx_, const_cast<char*>(name.c_str()), index, nullptr),
                 "removing a header");
}

util::Result<void> LibmilterContext::quarantine(const std::string& reason) {
    return check(smfi_quarantine(ctx_, const_cast<char*>(reason.c_str())), "quarantine");
}

// libmilter sends the body in SMFIR_REPLBODY packets of at most MILTER_CHUNK_SIZE itself.
util::Result<void> LibmilterContext::replace_body(const std::string& body) {
    auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(body.data()));
    return check(smfi_replacebody(ctx_, bytes, static_cast<int>(body.size())),
                 "replacing the body");
}

}  // namespace mailwarden::milter
