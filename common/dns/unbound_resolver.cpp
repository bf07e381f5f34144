// unbound_resolver.cpp - Resolver over libunbound; the only file that includes unbound.h.
//
// Every query is started with ub_resolve_async(); a delivery thread waits on ub_fd() and
// runs ub_process(), whose callback hands the ub_result to the waiting caller through a
// shared Pending slot. A caller that times out cancels its query; whichever of ub_cancel
// and the callback wins frees the callback's reference, so nothing dangles.
#include "dns/unbound_resolver.hpp"

#include <arpa/nameser.h>
#include <fcntl.h>
#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "util/unique_handle.hpp"

namespace mailwarden::dns {

namespace {

constexpr int kClassIn = 1;
constexpr int kTypeA = 1;
constexpr int kTypePtr = 12;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;

using Context = util::UniqueHandle<ub_ctx, ub_ctx_delete>;
using ResultHandle = util::UniqueHandle<ub_result, ub_resolve_free>;

// The meeting point of a waiting caller and libunbound's callback.
struct Pending {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    int error = 0;
    ResultHandle result;
};

void on_result(void* arg, int error, ub_result* result) {
    auto* holder = static_cast<std::shared_ptr<Pending>*>(arg);
    {
        std::lock_guard lock((*holder)->mutex);
        (*holder)->error = error;
        (*holder)->result.reset(result);
        (*holder)->done = true;
    }
    (*holder)->done_cv.notify_all();
    delete holder;
}

// Presentation form for ub_resolve: every octet other than letters, digits, '-', '_' and
// the '.' separators is written \DDD (RFC 1035 §5.1), so names with spaces stay one label.
std::string escape_name(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            c == '-' || c == '_' || c == '.') {
            out += c;
        } else {
            out += fmt::format("\\{:03d}", u);
        }
    }
    return out;
}

// A wire-format (uncompressed) domain name at data[pos..len) -> "a.b.c", no trailing dot.
std::optional<std::string> read_name(const unsigned char* data, int len, int pos) {
    std::string out;
    while (pos < len) {
        const int label = data[pos++];
        if (label == 0) {
            return out;
        }
        if (label > 63 || pos + label > len) {
            return std::nullopt;
        }
        if (!out.empty()) {
            out += '.';
        }
        out.append(reinterpret_cast<const char*>(data + pos), static_cast<std::size_t>(label));
        pos += label;
    }
    return std::nullopt;
}

Rcode rcode_of(int error, const ub_result* result) {
    if (error != 0 || result == nullptr || result->bogus) {
        return Rcode::ServFail;  // a libunbound error, or a DNSSEC bogus answer
    }
    switch (result->rcode) {
        case ns_r_noerror:
            return result->havedata ? Rcode::NoError : Rcode::NoData;
        case ns_r_nxdomain:
            return Rcode::NxDomain;
        case ns_r_servfail:
            return Rcode::ServFail;
        default:
            return Rcode::Refused;
    }
}

}  // namespace

struct UnboundResolver::Impl {
    Context context;
    std::chrono::milliseconds timeout{};
    int wake[2] = {-1, -1};
    std::thread delivery;

    ~Impl() {
        if (delivery.joinable()) {
            const char byte = 0;
            while (::write(wake[1], &byte, 1) < 0 && errno == EINTR) {
            }
            delivery.join();
        }
        for (const int fd : wake) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        // context is deleted last (member destruction), after the thread stopped.
    }

    void run() {
        pollfd fds[2] = {{ub_fd(context.get()), POLLIN, 0}, {wake[0], POLLIN, 0}};
        for (;;) {
            const int ready = ::poll(fds, 2, -1);
            if (ready < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return;
            }
            if (fds[1].revents != 0) {
                return;
            }
            if (fds[0].revents != 0) {
                ub_process(context.get());
            }
        }
    }

    // Runs one query; the returned Pending holds the ub_result while the caller reads it.
    template <class T, class Parse>
    Answer<T> resolve(std::string_view name, int type, Parse parse) {
        Answer<T> answer;
        auto pending = std::make_shared<Pending>();
        auto* holder = new std::shared_ptr<Pending>(pending);
        int id = 0;
        const std::string query = escape_name(name);
        if (ub_resolve_async(context.get(), query.c_str(), type, kClassIn, holder, on_result,
                             &id) != 0) {
            delete holder;
            answer.rcode = Rcode::ServFail;
            return answer;
        }
        std::unique_lock lock(pending->mutex);
        if (!pending->done_cv.wait_for(lock, timeout, [&] { return pending->done; })) {
            lock.unlock();
            if (ub_cancel(context.get(), id) == 0) {
                delete holder;  // the callback will not run
            }
            answer.rcode = Rcode::Timeout;
            return answer;
        }
        const ub_result* result = pending->result.get();
        answer.rcode = rcode_of(pending->error, result);
        if (result != nullptr) {
            answer.ttl = std::chrono::seconds(std::max(result->ttl, 0));
            answer.dnssec = result->secure != 0;
        }
        if (answer.rcode == Rcode::NoError) {
            for (int i = 0; result->data[i] != nullptr; ++i) {
                if (auto record = parse(reinterpret_cast<const unsigned char*>(result->data[i]),
                                        result->len[i])) {
                    answer.records.push_back(std::move(*record));
                }
            }
            if (answer.records.empty()) {
                answer.rcode = Rcode::NoData;  // nothing usable in the answer
            }
        }
        return answer;
    }
};

util::Result<std::unique_ptr<UnboundResolver>> UnboundResolver::create(UnboundOptions options) {
    auto impl = std::make_unique<Impl>();
    impl->timeout = options.query_timeout;
    impl->context.reset(ub_ctx_create());
    ub_ctx* ctx = impl->context.get();
    if (ctx == nullptr) {
        return util::fail(util::ErrorCode::Internal, "ub_ctx_create failed");
    }
    auto check = [](int rc, std::string what) -> util::Result<void> {
        if (rc != 0) {
            return util::fail(util::ErrorCode::Config,
                              fmt::format("{}: {}", what, ub_strerror(rc)));
        }
        return {};
    };
    // Forwarders and stub resolvers commonly listen on loopback (127.0.0.53, a local unbound).
    if (auto r = check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"),
                       "do-not-query-localhost");
        !r) {
        return std::unexpected(r.error());
    }
    if (!options.forwarders.empty()) {
        for (const auto& forwarder : options.forwarders) {
            if (auto r = check(ub_ctx_set_fwd(ctx, forwarder.c_str()),
                               fmt::format("forwarder '{}'", forwarder));
                !r) {
                return std::unexpected(r.error());
            }
        }
    } else if (!options.resolv_conf.empty()) {
        if (auto r = check(ub_ctx_resolvconf(ctx, options.resolv_conf.c_str()),
                           fmt::format("resolv.conf '{}'", options.resolv_conf));
            !r) {
            return std::unexpected(r.error());
        }
    }
    if (!options.trust_anchor_file.empty()) {
        if (auto r = check(ub_ctx_add_ta_file(ctx, options.trust_anchor_file.c_str()),
                           fmt::format("trust anchor '{}'", options.trust_anchor_file));
            !r) {
            return std::unexpected(r.error());
        }
    }
    if (auto r = check(ub_ctx_async(ctx, 1), "async mode"); !r) {  // threads, not fork
        return std::unexpected(r.error());
    }
    if (::pipe2(impl->wake, O_CLOEXEC) != 0) {
        return util::fail(util::ErrorCode::Internal, "pipe2 failed");
    }
    Impl* raw = impl.get();
    impl->delivery = std::thread([raw] { raw->run(); });
    return std::unique_ptr<UnboundResolver>(new UnboundResolver(std::move(impl)));
}

UnboundResolver::UnboundResolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

UnboundResolver::~UnboundResolver() = default;

Answer<TxtRecord> UnboundResolver::txt(std::string_view name) {
    return impl_->resolve<TxtRecord>(
        name, kTypeTxt, [](const unsigned char* data, int len) -> std::optional<TxtRecord> {
            TxtRecord record;  // RFC 1035 §3.3.14: one or more <character-string>
            int pos = 0;
            while (pos < len) {
                const int size = data[pos++];
                if (pos + size > len) {
                    return std::nullopt;
                }
                record.strings.emplace_back(reinterpret_cast<const char*>(data + pos),
                                            static_cast<std::size_t>(size));
                pos += size;
            }
            return record;
        });
}

Answer<util::IpAddress> UnboundResolver::a(std::string_view name) {
    return impl_->resolve<util::IpAddress>(
        name, kTypeA, [](const unsigned char* data, int len) -> std::optional<util::IpAddress> {
            if (len != 4) {
                return std::nullopt;
            }
            return util::IpAddress::from_bytes(util::IpAddress::Family::V4, data);
        });
}

Answer<util::IpAddress> UnboundResolver::aaaa(std::string_view name) {
    return impl_->resolve<util::IpAddress>(
        name, kTypeAaaa, [](const unsigned char* data, int len) -> std::optional<util::IpAddress> {
            if (len != 16) {
                return std::nullopt;
            }
            return util::IpAddress::from_bytes(util::IpAddress::Family::V6, data);
        });
}

Answer<MxRecord> UnboundResolver::mx(std::string_view name) {
    return impl_->resolve<
        MxRecord>(name, kTypeMx, [](const unsigned char* data, int len) -> std::optional<MxRecord> {
        if (len < 3) {
            return std::nullopt;
        }
        auto exchange = read_name(data, len, 2);
        if (!exchange) {
            return std::nullopt;
        }
        return MxRecord{static_cast<std::uint16_t>((data[0] << 8) | data[1]), std::move(*exchange)};
    });
}

Answer<std::string> UnboundResolver::ptr(const util::IpAddress& address) {
    return impl_->resolve<std::string>(
        reverse_name(address), kTypePtr,
        [](const unsigned char* data, int len) { return read_name(data, len, 0); });
}

}  // namespace mailwarden::dns
