// stage.hpp - the stages of an SMTP transaction that a check can act on, and sets of them.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailwarden::policy {

/// A point in the transaction where checks run. Order is the SMTP order.
enum class Stage : std::uint8_t {
    Connect,       ///< client connected; client address and name known
    Helo,          ///< HELO/EHLO name known
    MailFrom,      ///< envelope sender known; a refusal here refuses the transaction
    Rcpt,          ///< one recipient known; a refusal here refuses that recipient only
    Header,        ///< one header field (fed one by one)
    EndOfHeaders,  ///< all header fields seen
    Body,          ///< a body chunk (fed through CheckRun::on_body)
    EndOfMessage,  ///< the message is complete: the final verdict is taken here
};

/// "connect", "helo", "mail", "rcpt", "header", "eoh", "body", "eom".
constexpr std::string_view to_string(Stage stage) noexcept {
    switch (stage) {
        case Stage::Connect:
            return "connect";
        case Stage::Helo:
            return "helo";
        case Stage::MailFrom:
            return "mail";
        case Stage::Rcpt:
            return "rcpt";
        case Stage::Header:
            return "header";
        case Stage::EndOfHeaders:
            return "eoh";
        case Stage::Body:
            return "body";
        case Stage::EndOfMessage:
            return "eom";
    }
    return "?";
}

/// A set of stages.
class StageMask {
  public:
    constexpr StageMask() = default;
    constexpr StageMask(std::initializer_list<Stage> stages) {
        for (Stage s : stages) {
            bits_ |= bit(s);
        }
    }
    constexpr bool has(Stage s) const noexcept { return (bits_ & bit(s)) != 0; }
    constexpr StageMask& operator|=(StageMask other) noexcept {
        bits_ |= other.bits_;
        return *this;
    }
    constexpr bool empty() const noexcept { return bits_ == 0; }
    friend constexpr bool operator==(StageMask, StageMask) = default;

  private:
    static constexpr std::uint16_t bit(Stage s) noexcept {
        return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
    }
    std::uint16_t bits_ = 0;
};

}  // namespace mailwarden::policy
