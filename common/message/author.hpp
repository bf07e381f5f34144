// author.hpp - the RFC 5322 author (From:) of a message, as DMARC needs it (RFC 9989 §4.4).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::message {

/// The author domain from the values of the message's From: header fields (each value as
/// after the colon, folding allowed). Exactly one From: with exactly one mailbox is
/// required; several From: fields, none, a group, several mailboxes with different domains,
/// or an unparseable address give an InvalidInput error that says which. The domain is
/// lower case, without a trailing dot. Comments, quoted display names with commas and
/// encoded words in the display name are handled.
util::Result<std::string> author_domain(std::span<const std::string_view> from_values);

/// Every distinct domain (lower case, in order of appearance) of the single From: field's
/// mailboxes: the errors of author_domain() except that several domains are returned
/// rather than refused. For receivers that go on with DMARC for each of several authors
/// (RFC 9989 §5.3.1 allows it; dmarc::Evaluator::evaluate_authors keeps the strictest).
util::Result<std::vector<std::string>> author_domains(
    std::span<const std::string_view> from_values);

/// The address (local@domain) of a single-mailbox From: value, for logs and replies.
util::Result<std::string> author_address(std::string_view from_value);

}  // namespace mailwarden::message
