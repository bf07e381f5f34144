// journal.hpp - the local spill file for events the store could not take: JSON lines, one
// event per line, appended and fsync'ed per batch, bounded in size, read back in order.
//
// Thread-safe (one mutex): the recorder's writer thread and a caller whose event found
// the queue full may append at once. Failures are values: Unavailable for I/O errors,
// PermFailure when an append would pass max_bytes. A corrupt line is logged with its line
// number and skipped when read, never fatal. Not shared between processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "store/event.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

/// An append-only file of events with a read position (the replay cursor).
class Journal {
  public:
    /// Opens (creating, mode 0600) `path`; a journal left by an earlier run is kept and
    /// read from where its replay stopped (the cursor is kept in `path` + ".pos"), or from
    /// its start. A last line cut short by a crash is terminated so new lines stay
    /// separate (it is then skipped as corrupt).
    static util::Result<std::unique_ptr<Journal>> open(std::filesystem::path path,
                                                       std::uint64_t max_bytes);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /// Appends the events as JSON lines. With `sync`, fdatasync before returning.
    /// PermFailure when the file would exceed max_bytes (nothing written); Unavailable on
    /// an I/O error.
    util::Result<void> append(std::span<const Event> events, bool sync = true);

    /// The next (up to) `max_events` events after the read position, in order; corrupt
    /// lines are logged and skipped. The position moves only on commit_read().
    util::Result<std::vector<Event>> peek(std::size_t max_events);
    /// Moves the read position past what the last peek() returned (and skipped) and saves
    /// it (written to a temporary file, synced, renamed), so a restart does not replay
    /// those events again. When the whole file has been read, it is truncated to zero.
    util::Result<void> commit_read();

    /// True when nothing is left to read.
    bool empty() const;
    /// Bytes in the file (read or not).
    std::uint64_t size_bytes() const;
    /// Corrupt lines skipped so far.
    std::uint64_t corrupt_lines() const;
    const std::filesystem::path& path() const { return path_; }

  private:
    Journal(std::filesystem::path path, int fd, std::uint64_t max_bytes, std::uint64_t size);
    std::filesystem::path cursor_path() const;
    void load_cursor();
    util::Result<void> save_cursor();

    std::filesystem::path path_;
    int fd_;
    std::uint64_t max_bytes_;
    mutable std::mutex mutex_;
    std::uint64_t size_;                 // bytes in the file
    std::uint64_t read_offset_ = 0;      // first byte not yet replayed
    std::uint64_t read_line_ = 0;        // lines before read_offset_
    std::uint64_t peek_end_offset_ = 0;  // where the last peek() stopped
    std::uint64_t peek_end_line_ = 0;
    std::uint64_t corrupt_lines_ = 0;
    std::uint64_t logged_through_line_ = 0;  // corrupt lines up to here were reported
};

}  // namespace mailwarden::store
