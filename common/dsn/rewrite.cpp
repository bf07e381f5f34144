// rewrite.cpp - rewrite_bounce(): GMime builds the explanation parts and the new
// multipart, and writes the new body with CRLF line ends (GMIME_NEWLINE_FORMAT_DOS).
#include "dsn/rewrite.hpp"

#include <fmt/format.h>

#include "dsn/gmime_support.hpp"
#include "util/ascii.hpp"
#include "util/text_wrap.hpp"

namespace mailwarden::dsn {

namespace {

constexpr std::size_t kTextWidth = 72;
constexpr int kMaxHtmlSearchDepth = 8;

bool all_delayed(std::span<const RecipientExplanation> failures) {
    for (const auto& f : failures) {
        if (f.action != "delayed") {
            return false;
        }
    }
    return true;
}

std::string headline(std::span<const RecipientExplanation> failures) {
    return all_delayed(failures) ? "Why your message has not been delivered yet"
                                 : "Why your message was not delivered";
}

std::string intro(std::span<const RecipientExplanation> failures, const OriginalMessage& original) {
    const std::string subject = original.subject.empty()
                                    ? std::string("Your message")
                                    : fmt::format("Your message \"{}\"", original.subject);
    const std::size_t n = failures.size();
    const std::string whom = n == 1 ? std::string("1 recipient") : fmt::format("{} recipients", n);
    if (all_delayed(failures)) {
        return fmt::format(
            "{} has not reached {} yet. The mail system keeps trying; you need to do nothing "
            "unless it gives up, which it will tell you in another message.",
            subject, whom);
    }
    return fmt::format("{} could not be delivered to {}.", subject, whom);
}

std::string status_line(const RecipientExplanation& f) {
    std::string line = f.action == "delayed" ? "still trying" : "not delivered";
    if (!f.status.empty()) {
        line += ", status " + f.status;
    }
    if (!f.remote_host.empty()) {
        line += ", reported by " + f.remote_host;
    }
    return line;
}

constexpr std::string_view kClosing =
    "This explanation was added by the mail filter of your mail system. The original "
    "delivery report follows unchanged.";

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

bool is_ascii(std::string_view text) {
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            return false;
        }
    }
    return true;
}

GObjectHandle<GMimeObject> text_part(const char* subtype, const std::string& text) {
    GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
    g_mime_text_part_set_text(part, text.c_str());  // charset: us-ascii or utf-8
    g_mime_part_set_content_encoding(
        GMIME_PART(part),
        is_ascii(text) ? GMIME_CONTENT_ENCODING_7BIT : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GObjectHandle<GMimeObject>(GMIME_OBJECT(part));
}

// Whether `object` (not descending into returned messages) has a text/html part.
bool has_html(GMimeObject* object, int depth) {
    if (object == nullptr || depth > kMaxHtmlSearchDepth) {
        return false;
    }
    if (GMIME_IS_MULTIPART(object)) {
        GMimeMultipart* multipart = GMIME_MULTIPART(object);
        for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
            if (has_html(g_mime_multipart_get_part(multipart, i), depth + 1)) {
                return true;
            }
        }
        return false;
    }
    GMimeContentType* type = g_mime_object_get_content_type(object);
    return type != nullptr && g_mime_content_type_is_type(type, "text", "html");
}

// The explanation entity: text/plain, or multipart/alternative (plain, html).
GObjectHandle<GMimeObject> explanation_part(std::span<const RecipientExplanation> failures,
                                            const OriginalMessage& original, bool html) {
    GObjectHandle<GMimeObject> plain = text_part("plain", explanation_text(failures, original));
    GObjectHandle<GMimeObject> entity;
    if (!html) {
        entity = std::move(plain);
    } else {
        GObjectHandle<GMimeObject> rich = text_part("html", explanation_html(failures, original));
        GMimeMultipart* alternative = g_mime_multipart_new_with_subtype("alternative");
        g_mime_multipart_add(alternative, plain.get());
        g_mime_multipart_add(alternative, rich.get());
        g_mime_multipart_set_boundary(alternative, nullptr);
        entity.reset(GMIME_OBJECT(alternative));
    }
    g_mime_object_set_header(entity.get(), "Content-Description",
                             "Explanation of the delivery failure", nullptr);
    g_mime_object_set_disposition(entity.get(), "inline");
    return entity;
}

GObjectHandle<GMimeMultipart> mixed_of(GMimeObject* first, GMimeObject* second) {
    GObjectHandle<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
    g_mime_multipart_add(mixed.get(), first);
    g_mime_multipart_add(mixed.get(), second);
    g_mime_multipart_set_boundary(mixed.get(), nullptr);  // a fresh random boundary
    return mixed;
}

std::string write_content(GMimeObject* object) {
    GObjectHandle<GMimeStream> out(g_mime_stream_mem_new());
    GMimeFormatOptions* options = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_object_write_content_to_stream(object, options, out.get());
    g_mime_format_options_free(options);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

bool is_report(GMimeObject* object) {
    GMimeContentType* type = g_mime_object_get_content_type(object);
    return GMIME_IS_MULTIPART(object) && type != nullptr &&
           g_mime_content_type_is_type(type, "multipart", "report") &&
           g_mime_multipart_get_count(GMIME_MULTIPART(object)) > 0;
}

}  // namespace

std::string explanation_text(std::span<const RecipientExplanation> failures,
                             const OriginalMessage& original) {
    const std::string title = headline(failures);
    std::string out = title + "\n" + std::string(title.size(), '-') + "\n\n";
    out += util::wrap_words(intro(failures, original), kTextWidth, "");
    for (const auto& f : failures) {
        out += "\n";
        out += "* " + (f.recipient.empty() ? std::string("(recipient not named)") : f.recipient) +
               "\n";
        out +=
            util::wrap_words(fmt::format("{} ({})", f.summary, status_line(f)), kTextWidth, "  ");
        out += "\n";
        out += util::wrap_words(f.user_text, kTextWidth, "  ");
    }
    out += "\n";
    out += util::wrap_words(kClosing, kTextWidth, "");
    return out;
}

std::string explanation_html(std::span<const RecipientExplanation> failures,
                             const OriginalMessage& original) {
    std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
                      html_escape(headline(failures)) + "</title></head>\n<body>\n";
    out += "<h2>" + html_escape(headline(failures)) + "</h2>\n";
    out += "<p>" + html_escape(intro(failures, original)) + "</p>\n<ul>\n";
    for (const auto& f : failures) {
        out += "<li><p><b>" +
               html_escape(f.recipient.empty() ? "(recipient not named)" : f.recipient) +
               "</b><br>\n" + html_escape(f.summary) + " <small>(" + html_escape(status_line(f)) +
               ")</small></p>\n<p>" + html_escape(f.user_text) + "</p></li>\n";
    }
    out += "</ul>\n<p><small>" + html_escape(kClosing) + "</small></p>\n</body></html>\n";
    return out;
}

util::Result<Rewrite> rewrite_bounce(std::string_view message,
                                     std::span<const RecipientExplanation> failures,
                                     const OriginalMessage& original) {
    if (failures.empty()) {
        return util::fail(util::ErrorCode::InvalidInput, "no failed recipient to explain");
    }
    ensure_gmime();
    GObjectHandle<GMimeStream> stream(
        g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObjectHandle<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObjectHandle<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!parsed) {
        return util::fail(util::ErrorCode::InvalidInput, "not a MIME message");
    }
    GMimeObject* top = g_mime_message_get_mime_part(parsed.get());
    if (top == nullptr) {
        return util::fail(util::ErrorCode::InvalidInput, "the message has no body part");
    }
    Rewrite out;
    if (is_report(top)) {
        // RFC 6522 §3: the first part is the human-readable one; it becomes
        // multipart/mixed (explanation, original first part); the rest stays as it was.
        GMimeMultipart* report = GMIME_MULTIPART(top);
        GMimeObject* first = g_mime_multipart_get_part(report, 0);
        GObjectHandle<GMimeObject> explanation =
            explanation_part(failures, original, has_html(first, 0));
        GObjectHandle<GMimeMultipart> mixed = mixed_of(explanation.get(), first);
        GObjectHandle<GMimeObject> replaced(
            g_mime_multipart_replace(report, 0, GMIME_OBJECT(mixed.get())));
        out.body = write_content(top);
        return out;
    }
    GObjectHandle<GMimeObject> explanation = explanation_part(failures, original, has_html(top, 0));
    GObjectHandle<GMimeMultipart> mixed = mixed_of(explanation.get(), top);
    out.body = write_content(GMIME_OBJECT(mixed.get()));
    const char* type = g_mime_object_get_header(GMIME_OBJECT(mixed.get()), "Content-Type");
    if (type == nullptr) {
        return util::fail(util::ErrorCode::Internal, "GMime gave the new multipart no type");
    }
    out.content_type = std::string(util::trim(type));
    out.drop_transfer_encoding = true;
    return out;
}

}  // namespace mailwarden::dsn
