/* no_nodelay_preload.c - LD_PRELOAD shim for measuring what TCP_NODELAY buys: it turns
 * setsockopt(IPPROTO_TCP, TCP_NODELAY, 1) into a no-op, so a milter keeps Nagle's algorithm
 * on its sockets without a rebuild. Benchmark use only:
 *   gcc -O2 -shared -fPIC -o no_nodelay.so bench/tools/no_nodelay_preload.c -ldl
 *   LD_PRELOAD=$PWD/no_nodelay.so mailwarden -c cfg.yaml --foreground
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
    static int (*real)(int, int, int, const void*, socklen_t) = 0;
    if (level == IPPROTO_TCP && name == TCP_NODELAY) {
        return 0; /* pretend it worked; Nagle stays on */
    }
    if (real == 0) {
        real = (int (*)(int, int, int, const void*, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
    }
    return real(fd, level, name, value, len);
}
