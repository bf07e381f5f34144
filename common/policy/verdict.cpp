#include "policy/verdict.hpp"

#include <algorithm>

namespace mailwarden::policy {

smtp::Reply default_reply(Action action) {
    if (action == Action::Tempfail) {
        return smtp::Reply{451, "4.7.1", {"Service temporarily unavailable, try again later"}};
    }
    return smtp::Reply{550, "5.7.1", {"Message rejected by policy"}};
}

namespace {

Action effective(const Decision& d) {
    return d.warn_only ? Action::Continue : d.action;
}

// A decision as it may count for `kind`: above the allowed action it becomes a warning.
Decision within(const Decision& d, MessageKind kind) {
    Decision out = d;
    if (!out.warn_only && out.action > strongest_allowed(kind)) {
        out.warn_only = true;
    }
    return out;
}

}  // namespace

Verdict compose(std::span<const Decision> input, MessageKind kind) {
    std::vector<Decision> decisions;
    decisions.reserve(input.size());
    for (const auto& d : input) {
        decisions.push_back(within(d, kind));
    }
    Verdict verdict;
    for (const auto& d : decisions) {
        verdict.headers.insert(verdict.headers.end(), d.headers.begin(), d.headers.end());
        if (d.body) {
            verdict.body = d.body;
        }
        if (d.action != Action::Continue || !d.reason.empty()) {
            verdict.decisions.push_back(d);
        }
        if (effective(d) > verdict.action) {
            verdict.action = effective(d);
            verdict.deciding_check = d.check;
        }
    }
    if (!verdict.refuses()) {
        return verdict;
    }
    for (const auto& d : decisions) {
        if (effective(d) != verdict.action) {
            continue;
        }
        const smtp::Reply reply = d.reply.value_or(default_reply(verdict.action));
        if (!verdict.reply) {
            verdict.reply = reply;
            continue;
        }
        for (const auto& line : reply.lines) {
            auto& lines = verdict.reply->lines;
            if (lines.size() < smtp::kMaxReplyLines &&
                std::find(lines.begin(), lines.end(), line) == lines.end()) {
                lines.push_back(line);
            }
        }
    }
    return verdict;
}

}  // namespace mailwarden::policy
