#include "commands/explain.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "explain/catalog.hpp"
#include "smtp/diagnostic.hpp"
#include "util/text_wrap.hpp"

namespace mailwarden::ctl {

namespace {

constexpr const char* kSystemCatalog = "/etc/mailwarden/explanations.yaml";
// A stored bounce larger than this is refused (dsn::ParseLimits has the same default).
constexpr std::size_t kMaxFileBytes = 32u << 20;

struct ExplainOptions {
    std::string diagnostic;
    std::string file;
    std::string catalog;
    std::string recipient;
    bool json = false;
};

// --catalog, else the system file, else the source tree's (MW_DEFAULT_CATALOG).
std::optional<std::filesystem::path> find_catalog(const std::string& requested) {
    if (!requested.empty()) {
        return std::filesystem::path(requested);
    }
    std::error_code ec;
    if (std::filesystem::exists(kSystemCatalog, ec)) {
        return std::filesystem::path(kSystemCatalog);
    }
#ifdef MW_DEFAULT_CATALOG
    if (std::filesystem::exists(MW_DEFAULT_CATALOG, ec)) {
        return std::filesystem::path(MW_DEFAULT_CATALOG);
    }
#endif
    return std::nullopt;
}

[[noreturn]] void fail(int code, const std::string& message) {
    std::cerr << "mailwardenctl explain: " << message << "\n";
    throw CLI::RuntimeError(code);
}

nlohmann::json to_json(const dsn::RecipientExplanation& e) {
    nlohmann::json object;
    object["recipient"] = e.recipient;
    object["reason"] = std::string(explain::to_string(e.reason));
    object["status"] = e.status;
    object["reply_code"] = e.reply_code ? nlohmann::json(*e.reply_code) : nlohmann::json();
    object["remote_host"] = e.remote_host;
    object["permanent"] = e.permanent;
    object["action"] = e.action;
    object["summary"] = e.summary;
    object["user_text"] = e.user_text;
    object["admin_text"] = e.admin_text;
    object["diagnostic"] = e.diagnostic;
    object["entry"] = e.entry_id;
    if (!e.feedback_type.empty()) {
        object["feedback_type"] = e.feedback_type;
    }
    return object;
}

void print_human(const std::vector<dsn::RecipientExplanation>& explanations) {
    for (const dsn::RecipientExplanation& e : explanations) {
        std::cout << fmt::format("{}  {}  status {}{}  {}{}\n",
                                 e.recipient.empty() ? "(recipient unknown)" : e.recipient,
                                 explain::to_string(e.reason), e.status.empty() ? "-" : e.status,
                                 e.reply_code ? fmt::format(" (reply {})", *e.reply_code) : "",
                                 e.permanent ? "permanent" : "temporary",
                                 e.remote_host.empty() ? "" : "  from " + e.remote_host);
        std::cout << "  " << e.summary << "\n\n";
        std::cout << "  For the sender:\n" << util::wrap_words(e.user_text, 88, "    ") << "\n";
        std::cout << "  For the administrator:\n"
                  << util::wrap_words(e.admin_text, 88, "    ") << "\n";
    }
}

void run(const ExplainOptions& options) {
    const auto path = find_catalog(options.catalog);
    if (!path) {
        fail(1, fmt::format("no catalog: use --catalog FILE (looked for {})", kSystemCatalog));
    }
    auto catalog = explain::Catalog::load_file(*path);
    if (!catalog) {
        fail(1, catalog.error().describe());
    }

    std::vector<dsn::RecipientExplanation> explanations;
    if (!options.file.empty()) {
        std::ifstream in(options.file, std::ios::binary);
        if (!in) {
            fail(1, fmt::format("cannot read {}", options.file));
        }
        std::string bytes;
        bytes.resize(kMaxFileBytes + 1);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        const auto report = dsn::parse_dsn(bytes);
        if (!report) {
            fail(report.error().code == util::ErrorCode::NotFound ? 2 : 1,
                 fmt::format("{}: {}", options.file, report.error().describe()));
        }
        for (dsn::RecipientExplanation& e : dsn::explain(*report, *catalog)) {
            if (e.is_failure()) {
                explanations.push_back(std::move(e));
            }
        }
    } else {
        if (options.diagnostic.empty()) {
            fail(1, "give a diagnostic text or --file FILE");
        }
        explain::Context context;
        context.recipient = options.recipient;
        const smtp::Diagnostic diagnostic = smtp::parse_diagnostic(options.diagnostic);
        explain::Match match = catalog->classify(diagnostic, context);
        dsn::RecipientExplanation e;
        e.recipient = options.recipient;
        e.reason = match.category;
        e.status = match.status;
        e.reply_code = match.reply_code;
        e.remote_host = match.remote_host;
        e.permanent = match.permanent;
        e.summary = std::move(match.summary);
        e.user_text = std::move(match.user_text);
        e.admin_text = std::move(match.admin_text);
        e.diagnostic = diagnostic.text;
        e.entry_id = std::move(match.entry_id);
        explanations.push_back(std::move(e));
    }

    if (options.json) {
        nlohmann::json array = nlohmann::json::array();
        for (const dsn::RecipientExplanation& e : explanations) {
            array.push_back(to_json(e));
        }
        std::cout << array.dump(2) << "\n";
        return;
    }
    if (explanations.empty()) {
        std::cout << "No failed or delayed recipient in this report.\n";
        return;
    }
    print_human(explanations);
}

}  // namespace

void add_explain_command(CLI::App& app) {
    auto options = std::make_shared<ExplainOptions>();
    CLI::App* command = app.add_subcommand(
        "explain", "Explain an SMTP reply or a stored bounce in plain language (offline)");
    command->add_option("diagnostic", options->diagnostic,
                        "An SMTP reply or DSN diagnostic, e.g. \"550-5.7.26 This mail ...\"");
    command->add_option("--file,-f", options->file, "A bounce message (.eml) to explain")
        ->check(CLI::ExistingFile);
    command->add_option("--catalog", options->catalog,
                        fmt::format("Explanation catalog (default {})", kSystemCatalog));
    command->add_option("--recipient", options->recipient,
                        "Recipient address to name in the explanation of a single diagnostic");
    command->add_flag("--json", options->json,
                      "Print a JSON array, one object per failed or delayed recipient");
    command->callback([options] { run(*options); });
}

}  // namespace mailwarden::ctl
