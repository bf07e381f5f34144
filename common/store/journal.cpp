// journal.cpp - Journal: JSON lines appended with write(2) + fdatasync, read back with
// pread(2) from an in-memory cursor, truncated once everything was read.
//
// Lines longer than kMaxLineBytes are skipped as corrupt without being held in memory, so
// a damaged file cannot exhaust memory. Corrupt lines are logged once each (spdlog warn).
// The replay cursor "<offset> <line>" lives beside the journal in "<path>.pos".
#include "store/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace mailwarden::store {
namespace {

using util::ErrorCode;

// Longest journal line accepted; an event is a few KB at most.
constexpr std::size_t kMaxLineBytes = 1 << 20;
constexpr std::size_t kReadChunkBytes = 64 * 1024;

util::Error io_error(const std::filesystem::path& path, std::string_view what) {
    return util::Error{ErrorCode::Unavailable,
                       fmt::format("journal {}: {}: {}", path.string(), what, std::strerror(errno)),
                       {}};
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

util::Result<std::unique_ptr<Journal>> Journal::open(std::filesystem::path path,
                                                     std::uint64_t max_bytes) {
    std::error_code ec;
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path(), ec);
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return std::unexpected(io_error(path, "open"));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        auto error = io_error(path, "stat");
        ::close(fd);
        return std::unexpected(error);
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > 0) {
        char last = '\n';
        if (::pread(fd, &last, 1, static_cast<off_t>(size - 1)) != 1) {
            auto error = io_error(path, "read");
            ::close(fd);
            return std::unexpected(error);
        }
        if (last != '\n') {
            // XXX: a crash cut the last line short; end it so the next line stays whole.
            if (!write_all(fd, "\n")) {
                auto error = io_error(path, "write");
                ::close(fd);
                return std::unexpected(error);
            }
            ++size;
        }
    }
    std::unique_ptr<Journal> journal(new Journal(std::move(path), fd, max_bytes, size));
    journal->load_cursor();
    return journal;
}

std::filesystem::path Journal::cursor_path() const {
    auto p = path_;
    p += ".pos";
    return p;
}

void Journal::load_cursor() {
    std::error_code ec;
    if (!std::filesystem::exists(cursor_path(), ec)) {
        return;
    }
    std::ifstream in(cursor_path());
    std::uint64_t offset = 0, line = 0;
    char before = '\n';
    const bool parsed = static_cast<bool>(in >> offset >> line);
    const bool fits =
        parsed && offset <= size_ &&
        (offset == 0 || ::pread(fd_, &before, 1, static_cast<off_t>(offset - 1)) == 1);
    if (!fits || before != '\n') {
        spdlog::warn("journal {}: ignoring an unusable replay cursor {}; replaying from the start",
                     path_.string(), cursor_path().string());
        return;
    }
    read_offset_ = peek_end_offset_ = offset;
    read_line_ = peek_end_line_ = line;
    logged_through_line_ = line;
}

util::Result<void> Journal::save_cursor() {
    if (read_offset_ == 0) {
        std::error_code ec;
        std::filesystem::remove(cursor_path(), ec);
        return {};
    }
    auto tmp = cursor_path();
    tmp += ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return std::unexpected(io_error(tmp, "open"));
    }
    const bool ok =
        write_all(fd, fmt::format("{} {}\n", read_offset_, read_line_)) && ::fdatasync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), cursor_path().c_str()) != 0) {
        return std::unexpected(io_error(cursor_path(), "save"));
    }
    return {};
}

Journal::Journal(std::filesystem::path path, int fd, std::uint64_t max_bytes, std::uint64_t size)
    : path_(std::move(path)), fd_(fd), max_bytes_(max_bytes), size_(size) {}

Journal::~Journal() {
    ::close(fd_);
}

util::Result<void> Journal::append(std::span<const Event> events, bool sync) {
    if (events.empty()) {
        return {};
    }
    std::string lines;
    for (const Event& event : events) {
        lines += to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        lines += '\n';
    }
    std::lock_guard lock(mutex_);
    if (size_ + lines.size() > max_bytes_) {
        return util::fail(ErrorCode::PermFailure, fmt::format("journal {}: full ({} of {} bytes)",
                                                              path_.string(), size_, max_bytes_));
    }
    if (!write_all(fd_, lines)) {
        auto error = io_error(path_, "write");
        // Cut off a partly written batch so every line in the file stays whole.
        if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
            spdlog::error("journal {}: cannot cut off a partial write: {}", path_.string(),
                          std::strerror(errno));
        }
        return std::unexpected(error);
    }
    size_ += lines.size();
    if (sync && ::fdatasync(fd_) != 0) {
        return std::unexpected(io_error(path_, "fdatasync"));
    }
    return {};
}

util::Result<std::vector<Event>> Journal::peek(std::size_t max_events) {
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    std::uint64_t offset = read_offset_;
    std::uint64_t line = read_line_;
    std::uint64_t end_offset = read_offset_;
    std::string current;
    bool oversized = false;
    std::array<char, kReadChunkBytes> buffer{};

    const auto finish_line = [&] {
        ++line;
        if (current.empty() && !oversized) {
            return;  // an empty line carries nothing
        }
        std::string reason;
        if (oversized) {
            reason = fmt::format("longer than {} bytes", kMaxLineBytes);
        } else {
            const auto json = nlohmann::json::parse(current, nullptr, false);
            if (json.is_discarded()) {
                reason = "not JSON";
            } else if (auto event = from_json(json); !event) {
                reason = event.error().message;
            } else {
                out.push_back(std::move(*event));
                return;
            }
        }
        if (line > logged_through_line_) {
            logged_through_line_ = line;
            ++corrupt_lines_;
            spdlog::warn("journal {}: line {} is corrupt ({}), skipped", path_.string(), line,
                         reason);
        }
    };

    while (offset < size_ && out.size() < max_events) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size_ - offset));
        const ssize_t n = ::pread(fd_, buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(io_error(path_, "read"));
        }
        if (n == 0) {
            break;
        }
        std::size_t i = 0;
        for (; i < static_cast<std::size_t>(n); ++i) {
            const char c = buffer[i];
            if (c == '\n') {
                finish_line();
                current.clear();
                oversized = false;
                end_offset = offset + i + 1;
                if (out.size() >= max_events) {
                    break;
                }
            } else if (!oversized) {
                if (current.size() >= kMaxLineBytes) {
                    oversized = true;
                    current.clear();
                } else {
                    current += c;
                }
            }
        }
        offset += i == static_cast<std::size_t>(n) ? static_cast<std::uint64_t>(n) : i + 1;
        if (out.size() >= max_events) {
            break;
        }
    }
    // Lines end only at '\n', so `line` counts exactly the lines before end_offset.
    peek_end_offset_ = end_offset;
    peek_end_line_ = line;
    return out;
}

util::Result<void> Journal::commit_read() {
    std::lock_guard lock(mutex_);
    if (peek_end_offset_ <= read_offset_) {
        return {};
    }
    read_offset_ = peek_end_offset_;
    read_line_ = peek_end_line_;
    if (read_offset_ >= size_) {
        if (::ftruncate(fd_, 0) != 0) {
            return std::unexpected(io_error(path_, "truncate"));
        }
        size_ = 0;
        read_offset_ = 0;
        read_line_ = 0;
        peek_end_offset_ = 0;
        peek_end_line_ = 0;
        logged_through_line_ = 0;
    }
    return save_cursor();
}

bool Journal::empty() const {
    std::lock_guard lock(mutex_);
    return read_offset_ >= size_;
}

std::uint64_t Journal::size_bytes() const {
    std::lock_guard lock(mutex_);
    return size_;
}

std::uint64_t Journal::corrupt_lines() const {
    std::lock_guard lock(mutex_);
    return corrupt_lines_;
}

}  // namespace mailwarden::store
