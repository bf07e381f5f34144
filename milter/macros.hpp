// macros.hpp - the Sendmail macro names mailwarden reads, as Postfix and Sendmail send them.
#pragma once

namespace mailwarden::milter::macros {

inline constexpr const char* kQueueId = "i";
inline constexpr const char* kMtaHostname = "j";
inline constexpr const char* kDaemonName = "{daemon_name}";
inline constexpr const char* kAuthLogin = "{auth_authen}";
inline constexpr const char* kAuthType = "{auth_type}";
inline constexpr const char* kMailAddr = "{mail_addr}";
inline constexpr const char* kRcptAddr = "{rcpt_addr}";
inline constexpr const char* kClientAddr = "{client_addr}";
inline constexpr const char* kClientName = "{client_name}";

// Macro lists requested per stage with smfi_setsymlist (space separated).
inline constexpr const char* kConnectMacros = "j {daemon_name} {client_addr} {client_name}";
inline constexpr const char* kMailMacros = "i {auth_type} {auth_authen} {mail_addr}";
inline constexpr const char* kRcptMacros = "i {rcpt_addr}";
inline constexpr const char* kEndOfMessageMacros = "i";

}  // namespace mailwarden::milter::macros
