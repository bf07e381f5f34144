// signal_guard.cpp - keeps libmilter's signal thread away from SIGHUP, SIGTERM and SIGINT.
//
// XXX: smfi_main() starts a thread that sigwait()s for SIGHUP, SIGTERM and SIGINT and stops
// the milter on any of them - SIGHUP included, which mailwarden uses for reload. The main
// thread takes these signals itself (sigtimedwait in Daemon::run). Which of two waiting
// threads the kernel picks is not specified, so this definition interposes libmilter's
// call to sigwait() (the executable's symbol wins over libc's) and removes those three
// signals from its set; with nothing left to wait for, the thread sleeps for good.
// It is linked into the `mailwarden` executable itself, so libmilter.so binds to it.
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

extern "C" int sigwait(const sigset_t* set, int* sig) {
    using Sigwait = int (*)(const sigset_t*, int*);
    static const auto real = reinterpret_cast<Sigwait>(dlsym(RTLD_NEXT, "sigwait"));
    sigset_t narrowed = *set;
    sigdelset(&narrowed, SIGHUP);
    sigdelset(&narrowed, SIGTERM);
    sigdelset(&narrowed, SIGINT);
    if (sigisemptyset(&narrowed) != 0 || real == nullptr) {
        for (;;) {
            pause();
        }
    }
    return real(&narrowed, sig);
}
