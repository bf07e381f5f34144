// privileges.hpp - dropping root after the listening socket is open (OpenSMTPD
// dispatcher.c order: setgroups, setresgid, setresuid), and proving root cannot come back.
#pragma once

#include <string>

#include "util/error.hpp"

namespace mailwarden::milter {

/// Switches to `user` (and `group`, default the user's primary group). Does nothing when
/// not running as root or when `user` is empty. Config error when the user does not
/// exist; PermFailure when the switch fails or root could be regained.
util::Result<void> drop_privileges(const std::string& user, const std::string& group);

/// Checks, before anything is opened, that `user` and `group` exist (when running as root
/// and `user` is set): Config error naming the missing one.
util::Result<void> check_identity(const std::string& user, const std::string& group);

/// Looks up a user's uid and primary gid; NotFound when there is none.
util::Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& user);
/// Looks up a group's gid; NotFound when there is none.
util::Result<gid_t> lookup_group(const std::string& group);

}  // namespace mailwarden::milter
