#include "milter/apply_verdict.hpp"

#include <spdlog/spdlog.h>

namespace mailwarden::milter {

namespace {

void warn_on_error(const util::Result<void>& result, const std::string& queue_id,
                   std::string_view what) {
    if (!result) {
        spdlog::warn("{}: {} failed: {}", queue_id, what, result.error().describe());
    }
}

void apply_headers(MtaContext& mta, const policy::Verdict& verdict, const std::string& qid) {
    if (verdict.body) {
        warn_on_error(mta.replace_body(*verdict.body), qid, "replace body");
    }
    for (const auto& edit : verdict.headers) {
        switch (edit.kind) {
            case policy::HeaderEdit::Kind::Add:
                warn_on_error(mta.add_header(edit.name, edit.value), qid, "add header");
                break;
            case policy::HeaderEdit::Kind::Insert:
                warn_on_error(mta.insert_header(edit.index, edit.name, edit.value), qid,
                              "insert header");
                break;
            case policy::HeaderEdit::Kind::Remove:
                warn_on_error(mta.remove_header(edit.index, edit.name), qid, "remove header");
                break;
        }
    }
}

}  // namespace

Outcome apply_verdict(MtaContext& mta, const policy::Verdict& verdict, bool end_of_message,
                      const std::string& queue_id) {
    switch (verdict.action) {
        case policy::Action::Reject:
        case policy::Action::Tempfail: {
            const auto reply = verdict.reply.value_or(policy::default_reply(verdict.action));
            warn_on_error(mta.set_reply(reply), queue_id, "set reply");
            return verdict.action == policy::Action::Reject ? Outcome::Reject : Outcome::Tempfail;
        }
        case policy::Action::Discard:
            return end_of_message ? Outcome::Discard : Outcome::Continue;
        case policy::Action::Quarantine:
            if (!end_of_message) {
                return Outcome::Continue;
            }
            warn_on_error(mta.quarantine(verdict.deciding_check.empty()
                                             ? std::string("mailwarden")
                                             : "mailwarden: " + verdict.deciding_check),
                          queue_id, "quarantine");
            apply_headers(mta, verdict, queue_id);
            return Outcome::Accept;
        case policy::Action::Accept:
        case policy::Action::Continue:
            if (!end_of_message) {
                return Outcome::Continue;
            }
            apply_headers(mta, verdict, queue_id);
            return Outcome::Accept;
    }
    return Outcome::Continue;
}

}  // namespace mailwarden::milter
