// callbacks.cpp - libmilter's xxfi_* trampolines into Session. Every trampoline catches
// everything (nothing throws into libmilter), logs with the queue id, and answers with the
// configured on_internal_error action (Postfix milter8_comm_error). Stages that were
// negotiated as "no reply" answer SMFIS_NOREPLY.
#include "milter/callbacks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "milter/daemon.hpp"
#include "milter/libmilter_context.hpp"
#include "milter/negotiation.hpp"

namespace mailwarden::milter {

namespace {

// Per-connection private data: the session plus what was negotiated.
struct Connection {
    std::unique_ptr<Session> session;
    unsigned long protocol = 0;  // SMFIP_* flags in force
};

Connection* connection_of(SMFICTX* ctx) {
    return static_cast<Connection*>(smfi_getpriv(ctx));
}

Connection* ensure_connection(SMFICTX* ctx) {
    if (auto* c = connection_of(ctx)) {
        return c;
    }
    auto* daemon = current_daemon();
    if (daemon == nullptr) {
        return nullptr;
    }
    auto owned = std::make_unique<Connection>();
    owned->session = std::make_unique<Session>(daemon->services());
    if (smfi_setpriv(ctx, owned.get()) != MI_SUCCESS) {
        return nullptr;
    }
    return owned.release();  // owned by libmilter's priv until xxfi_close
}

sfsistat internal_error(SMFICTX* ctx, const char* where, const char* what) {
    auto* c = connection_of(ctx);
    spdlog::error("{}: internal error in {}: {}",
                  c != nullptr && c->session ? c->session->queue_id() : "NOQUEUE", where, what);
    auto* daemon = current_daemon();
    if (daemon == nullptr) {
        return SMFIS_TEMPFAIL;
    }
    return internal_error_outcome(daemon->services()) == Outcome::Accept ? SMFIS_ACCEPT
                                                                         : SMFIS_TEMPFAIL;
}

sfsistat to_sfsistat(Outcome outcome) {
    switch (outcome) {
        case Outcome::Continue:
            return SMFIS_CONTINUE;
        case Outcome::Accept:
            return SMFIS_ACCEPT;
        case Outcome::Reject:
            return SMFIS_REJECT;
        case Outcome::Tempfail:
            return SMFIS_TEMPFAIL;
        case Outcome::Discard:
            return SMFIS_DISCARD;
    }
    return SMFIS_CONTINUE;
}

// SMFIS_NOREPLY when the MTA agreed not to wait for an answer at this stage.
sfsistat no_reply_or(Connection* c, unsigned long nr_flag, sfsistat otherwise) {
    return (c != nullptr && (c->protocol & nr_flag) != 0) ? SMFIS_NOREPLY : otherwise;
}

std::vector<std::string> to_args(char** argv) {
    std::vector<std::string> args;
    for (; argv != nullptr && *argv != nullptr; ++argv) {
        args.emplace_back(*argv);
    }
    return args;
}

template <class F>
sfsistat guarded(SMFICTX* ctx, const char* where, F&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        return internal_error(ctx, where, e.what());
    } catch (...) {
        return internal_error(ctx, where, "unknown exception");
    }
}

extern "C" {

sfsistat mw_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                      unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1,
                      unsigned long* pf2, unsigned long* pf3) {
    return guarded(ctx, "negotiate", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_REJECT;  // libmilter: refuse the connection (MTA uses its default)
        }
        const auto flags = negotiate_flags(c->session->wanted_stages(), f0, f1);
        *pf0 = flags.actions;
        *pf1 = flags.protocol;
        *pf2 = 0;
        *pf3 = 0;
        c->protocol = *pf1;
        if ((*pf0 & SMFIF_SETSYMLIST) != 0) {
            for (const auto& list : stage_macro_lists()) {
                smfi_setsymlist(ctx, list.stage, const_cast<char*>(list.macros));
            }
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat mw_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
    return guarded(ctx, "connect", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        std::optional<util::IpAddress> ip;
        int port = 0;
        if (hostaddr != nullptr && hostaddr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(hostaddr);
            ip = util::IpAddress::from_bytes(util::IpAddress::Family::V4,
                                             reinterpret_cast<const std::uint8_t*>(&in->sin_addr));
            port = ntohs(in->sin_port);
        } else if (hostaddr != nullptr && hostaddr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(hostaddr);
            ip =
                util::IpAddress::from_bytes(util::IpAddress::Family::V6,
                                            reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr));
            port = ntohs(in6->sin6_port);
        }
        LibmilterContext mta(ctx, c->protocol);
        c->session->on_connect(mta, hostname != nullptr ? hostname : "unknown", ip, port);
        return no_reply_or(c, SMFIP_NR_CONN, SMFIS_CONTINUE);
    });
}

sfsistat mw_helo(SMFICTX* ctx, char* helo) {
    return guarded(ctx, "helo", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        c->session->on_helo(mta, helo != nullptr ? helo : "");
        return no_reply_or(c, SMFIP_NR_HELO, SMFIS_CONTINUE);
    });
}

sfsistat mw_envfrom(SMFICTX* ctx, char** argv) {
    return guarded(ctx, "mail", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        const auto args = to_args(argv);
        return to_sfsistat(c->session->on_mail(mta, args));
    });
}

sfsistat mw_envrcpt(SMFICTX* ctx, char** argv) {
    return guarded(ctx, "rcpt", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        const auto args = to_args(argv);
        return to_sfsistat(c->session->on_rcpt(mta, args));
    });
}

sfsistat mw_header(SMFICTX* ctx, char* name, char* value) {
    return guarded(ctx, "header", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        c->session->on_header(mta, name != nullptr ? name : "",
                              header_value_from_mta(value != nullptr ? value : "", c->protocol));
        return no_reply_or(c, SMFIP_NR_HDR, SMFIS_CONTINUE);
    });
}

sfsistat mw_eoh(SMFICTX* ctx) {
    return guarded(ctx, "eoh", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        c->session->on_end_of_headers(mta);
        return no_reply_or(c, SMFIP_NR_EOH, SMFIS_CONTINUE);
    });
}

sfsistat mw_body(SMFICTX* ctx, unsigned char* chunk, size_t length) {
    return guarded(ctx, "body", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        c->session->on_body(mta, std::as_bytes(std::span(chunk, chunk == nullptr ? 0 : length)));
        return no_reply_or(c, SMFIP_NR_BODY, SMFIS_CONTINUE);
    });
}

sfsistat mw_eom(SMFICTX* ctx) {
    return guarded(ctx, "eom", [&] {
        auto* c = ensure_connection(ctx);
        if (c == nullptr) {
            return SMFIS_TEMPFAIL;
        }
        LibmilterContext mta(ctx, c->protocol);
        return to_sfsistat(c->session->on_end_of_message(mta));
    });
}

sfsistat mw_abort(SMFICTX* ctx) {
    return guarded(ctx, "abort", [&] {
        if (auto* c = connection_of(ctx)) {
            c->session->on_abort();
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat mw_close(SMFICTX* ctx) {
    return guarded(ctx, "close", [&] {
        std::unique_ptr<Connection> owned(connection_of(ctx));
        smfi_setpriv(ctx, nullptr);
        return SMFIS_CONTINUE;
    });
}

}  // extern "C"

}  // namespace

smfiDesc* filter_description() {
    static smfiDesc description = {
        const_cast<char*>("mailwarden"),
        SMFI_VERSION,
        registered_actions(),
        mw_connect,
        mw_helo,
        mw_envfrom,
        mw_envrcpt,
        mw_header,
        mw_eoh,
        mw_body,
        mw_eom,
        mw_abort,
        mw_close,
        nullptr,  // unknown commands: negotiated away
        nullptr,  // DATA: negotiated away
        mw_negotiate,
    };
    return &description;
}

}  // namespace mailwarden::milter
