// postfix_instance.cpp - main.cf/master.cf of the private instance, its start and stop.
//
// Facts that matter (Postfix 3.7, root, no systemd): queue_directory must exist before
// `postfix start`, data_directory must belong to the postfix user, chroot is off for every
// service, postlogd writes maillog_file when maillog_file_prefixes covers it, virtual(8)
// refuses regexp `$1` maps (fixed table here) and delivers as a uid >= 100 (nobody).
#include "support/postfix_instance.hpp"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "support/paths.hpp"
#include "support/ports.hpp"

namespace mailwarden::testing {

namespace fs = std::filesystem;
using util::ErrorCode;
using util::fail;

namespace {

constexpr std::string_view kPython = "/usr/bin/python3";

std::optional<fs::path> find_program(std::string_view name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        fs::path p = fs::path(dir) / name;
        if (::access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    return std::nullopt;
}

util::Result<void> run_ok(ProcessOptions options, std::string_view what,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto r = run(std::move(options), timeout);
    if (!r) {
        return std::unexpected(r.error());
    }
    if (r->status != 0) {
        return fail(ErrorCode::Unavailable,
                    fmt::format("{} failed (status {}): {}", what, r->status, r->output));
    }
    return {};
}

}  // namespace

std::optional<std::string> postfix_unavailable_reason() {
    if (::geteuid() != 0) {
        return "the private Postfix needs root (its master(8) only runs as root)";
    }
    for (const char* program : {"postfix", "postconf", "saslpasswd2"}) {
        if (!find_program(program)) {
            return fmt::format("{} is not installed (apt-get install postfix sasl2-bin)", program);
        }
    }
    if (::getpwnam("postfix") == nullptr || ::getgrnam("postdrop") == nullptr) {
        return "no postfix user or postdrop group: install the postfix package";
    }
    auto r =
        run(command(std::string(kPython), {"-c", "import aiosmtpd"}), std::chrono::seconds(20));
    if (!r || r->status != 0) {
        return "/usr/bin/python3 lacks aiosmtpd (apt-get install python3-aiosmtpd)";
    }
    return std::nullopt;
}

util::Result<std::unique_ptr<PostfixInstance>> PostfixInstance::start(PostfixOptions options) {
    if (auto reason = postfix_unavailable_reason()) {
        return fail(ErrorCode::Unavailable, *reason);
    }
    std::unique_ptr<PostfixInstance> pf(new PostfixInstance());
    pf->smtp_port_ = free_tcp_port();
    pf->submission_port_ = free_tcp_port();
    pf->sink_port_ = free_tcp_port();
    if (auto ok = pf->write_config(options); !ok) {
        return std::unexpected(ok.error());
    }

    // The sink first, so that nothing queued for it is deferred.
    ProcessOptions sink =
        command(std::string(kPython), {(source_dir() / "tests" / "e2e" / "sink.py").string(),
                                       "--port", std::to_string(pf->sink_port_), "--store",
                                       pf->sink_dir().string(), "--lifetime", "3600"});
    if (!options.sink_rules.empty()) {
        sink.args.push_back("--rules");
        sink.args.push_back((pf->dir() / "sink-rules.conf").string());
    }
    sink.output = pf->dir() / "sink.log";
    auto sink_process = Process::spawn(std::move(sink));
    if (!sink_process) {
        return std::unexpected(sink_process.error());
    }
    pf->sink_ = std::make_unique<Process>(std::move(*sink_process));

    const auto conf = pf->config_dir().string();
    if (auto ok = run_ok(command(*find_program("postfix"), {"-c", conf, "start"}), "postfix start");
        !ok) {
        return fail(ErrorCode::Unavailable, ok.error().message + "\n" + pf->maillog());
    }
    pf->started_ = true;
    const auto wait = std::chrono::seconds(30);
    if (!wait_for_port(pf->smtp_port_, wait) || !wait_for_port(pf->submission_port_, wait) ||
        !pf->sink_->wait_for_port(pf->sink_port_, wait)) {
        return fail(ErrorCode::Unavailable,
                    fmt::format("services did not come up\nmaillog:\n{}\nsink:\n{}", pf->maillog(),
                                pf->sink_log()));
    }
    return pf;
}

util::Result<void> PostfixInstance::write_config(const PostfixOptions& options) {
    const fs::path d = dir();
    const fs::path conf = config_dir();
    for (const auto& sub : {conf, conf / "sasl", d / "queue", d / "data", d / "mail", sink_dir()}) {
        fs::create_directories(sub);
    }
    // getpwnam/getgrnam return static storage: copy each id before the next call.
    const passwd* pw = ::getpwnam("postfix");
    const uid_t postfix_uid = pw ? pw->pw_uid : 0;
    const group* gr = ::getgrnam("postfix");
    const gid_t postfix_gid = gr ? gr->gr_gid : 0;
    pw = ::getpwnam("nobody");
    const uid_t mail_uid = pw ? pw->pw_uid : 65534;
    const gid_t mail_gid = pw ? pw->pw_gid : 65534;
    // postfix and nobody must traverse the temporary directory.
    ::chmod(d.c_str(), 0755);
    if (::chown((d / "data").c_str(), postfix_uid, static_cast<gid_t>(-1)) != 0 ||
        ::chmod((d / "data").c_str(), 0700) != 0 ||
        ::chown((d / "mail").c_str(), mail_uid, mail_gid) != 0) {
        return fail(ErrorCode::Unavailable, "cannot chown the data or mail directory");
    }

    const std::string sink = fmt::format("smtp:[127.0.0.1]:{}", sink_port_);
    std::string main_cf =
        fmt::format(R"(# Private instance of a mailwarden end-to-end test.
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
myhostname = mx.local.test
mydomain = local.test
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = $myhostname ESMTP mailwarden-e2e
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_connect_timeout = 5s
virtual_mailbox_domains = local.test
virtual_mailbox_base = {dir}/mail
virtual_mailbox_maps = texthash:{conf}/vmailbox
recipient_delimiter = +
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
transport_maps = texthash:{conf}/transport
default_transport = {sink}
relay_transport = {sink}
relay_domains = remote.test
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
smtpd_authorized_xclient_hosts = 127.0.0.0/8
cyrus_sasl_config_path = {conf}/sasl
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_sasl_auth_enable = no
smtpd_milters = {milter}
non_smtpd_milters = {milter}
milter_default_action = {action}
milter_protocol = 6
internal_mail_filter_classes = bounce
)",
                    fmt::arg("dir", d.string()), fmt::arg("conf", conf.string()),
                    fmt::arg("uid", mail_uid), fmt::arg("gid", mail_gid), fmt::arg("sink", sink),
                    fmt::arg("milter", options.milter), fmt::arg("action", options.default_action));
    for (const auto& line : options.extra_main_cf) {
        main_cf += line + "\n";
    }
    const std::string master_cf =
        fmt::format(R"(# service type private unpriv chroot wakeup maxproc command
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
)",
                    fmt::arg("smtp", smtp_port_), fmt::arg("submission", submission_port_));
    std::string vmailbox;
    for (const char* user : {"alice", "bob", "carol", "postmaster"}) {
        vmailbox += fmt::format("{}@local.test\t{}/\n", user, user);
    }
    vmailbox += "@local.test\tcatchall/\n";
    const std::string transport = fmt::format("local.test\tvirtual:\n*\t{}\n", sink);
    const std::string sasl = fmt::format(
        "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
        "sasldb_path: {}/sasl/sasldb2\n",
        conf.string());
    for (const auto& [name, content] : {std::pair<std::string, std::string>{"main.cf", main_cf},
                                        {"master.cf", master_cf},
                                        {"vmailbox", vmailbox},
                                        {"transport", transport},
                                        {"sasl/smtpd.conf", sasl}}) {
        if (auto ok = write_file(conf / name, content); !ok) {
            return ok;
        }
    }
    if (!options.sink_rules.empty()) {
        if (auto ok = write_file(d / "sink-rules.conf", options.sink_rules); !ok) {
            return ok;
        }
    }
    const auto sasldb = conf / "sasl" / "sasldb2";
    for (const auto& [user, password] : {std::pair{"alice", "alicepass"}, {"bob", "bobpass"}}) {
        auto ok = run_ok(command("/bin/sh", {"-c", fmt::format("printf %s '{}' | saslpasswd2 -f "
                                                               "'{}' -p -c -u local.test {}",
                                                               password, sasldb.string(), user)}),
                         "saslpasswd2");
        if (!ok) {
            return ok;
        }
    }
    if (::chown(sasldb.c_str(), 0, postfix_gid) != 0 || ::chmod(sasldb.c_str(), 0640) != 0) {
        return fail(ErrorCode::Unavailable, "cannot chown the sasldb");
    }
    return run_ok(command(*find_program("postconf"), {"-c", conf.string(), "-n"}), "postconf -n");
}

PostfixInstance::~PostfixInstance() {
    stop();
}

std::optional<pid_t> PostfixInstance::master_pid() const {
    const std::string text = read_file(dir() / "queue" / "pid" / "master.pid");
    const pid_t pid = static_cast<pid_t>(std::atol(text.c_str()));
    if (pid > 0 && ::kill(pid, 0) == 0) {
        return pid;
    }
    return std::nullopt;
}

void PostfixInstance::stop() {
    if (started_) {
        started_ = false;
        const auto postfix = find_program("postfix");
        const auto conf = config_dir().string();
        (void)run(command(*postfix, {"-c", conf, "stop"}), std::chrono::seconds(20));
        for (int i = 0; i < 200 && master_pid(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (master_pid()) {
            (void)run(command(*postfix, {"-c", conf, "abort"}), std::chrono::seconds(10));
            for (int i = 0; i < 100 && master_pid(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        if (const auto pid = master_pid()) {
            ::kill(*pid, SIGKILL);  // the master this instance started, by its pid
        }
    }
    if (sink_) {
        sink_->stop(std::chrono::seconds(5));
    }
}

std::string PostfixInstance::maillog() const {
    return read_file(dir() / "maillog");
}
std::string PostfixInstance::sink_log() const {
    return read_file(dir() / "sink.log");
}

namespace {

std::optional<std::string> find_in(const fs::path& folder, std::string_view needle) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.is_regular_file(ec) && entry.path().filename().string().front() != '.') {
            files.push_back(entry.path());
        }
    }
    std::ranges::sort(files);
    for (const auto& file : files) {
        std::string text = read_file(file);
        if (text.find(needle) != std::string::npos) {
            return text;
        }
    }
    return std::nullopt;
}

std::optional<std::string> poll_for(const fs::path& folder, std::string_view needle,
                                    std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto found = find_in(folder, needle)) {
            return found;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace

std::optional<std::string> PostfixInstance::wait_for_mail(std::string_view user,
                                                          std::string_view needle,
                                                          std::chrono::milliseconds timeout) const {
    return poll_for(maildir(user) / "new", needle, timeout);
}

std::optional<std::string> PostfixInstance::wait_for_sink_mail(
    std::string_view needle, std::chrono::milliseconds timeout) const {
    return poll_for(sink_dir(), needle, timeout);
}

bool PostfixInstance::wait_for_log(std::string_view needle,
                                   std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (maillog().find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
}


util::Result<SmtpClient> PostfixInstance::remote_client(const std::string& address,
                                                        const std::string& helo) const {
    auto c = SmtpClient::connect(smtp_port_);
    if (!c) {
        return std::unexpected(c.error());
    }
    if (auto e = c->ehlo(); !e) {
        return std::unexpected(e.error());
    }
    auto x = c->command("XCLIENT ADDR=" + address +
                        " NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE] HELO=" + helo);
    if (!x) {
        return std::unexpected(x.error());
    }
    if (x->code != 220) {
        return util::fail(util::ErrorCode::Unavailable, "XCLIENT refused: " + x->text());
    }
    if (auto e = c->ehlo(); !e) {
        return std::unexpected(e.error());
    }
    return std::move(*c);
}

}  // namespace mailwarden::testing
